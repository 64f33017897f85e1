#!/usr/bin/env bash
# A handshake flood from one address: host 3 opens 20 connections to h1's control port and
# sends nothing. At most 4 of them wait in the handshake at once (the rest are refused at
# accept and counted), so they neither drain the accept budget nor keep a real peer out: h2
# joins while they stall.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch 1 >/dev/null
tn_exec 3 timeout 20 python3 -c "
import socket, time
held = []
for _ in range(20):
    try:
        held.append(socket.create_connection(('$(tn_ip 1)', 6783), timeout=2))
    except OSError:
        pass
time.sleep(15)
" &
sleep 2
limited() { [ "$(tn_counter 1 weft_handshake_failures_total 'reason="rate_limited"' 2>/dev/null || echo 0)" -ge 10 ]; }
tn_check_within 5 "all but 4 of the flood's connections are refused at accept" limited
tn_launch 2 "$(tn_ip 1)" >/dev/null
tn_check_within 10 "a real peer joins while the flood's handshakes stall" tn_full_mesh 2
