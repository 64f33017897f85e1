#!/usr/bin/env bash
# Random bytes, a truncated handshake, an oversized length and a silent connection sent to port
# 6783 leave the router running with its mesh intact; each is counted as a handshake failure.
source "$(dirname "$0")/../lib.sh"
tn_setup 4
tn_launch_mesh 3
h1=$(tn_ip 1)
# host 4 has no router: it plays the attacker.
tn_exec 4 bash -c "head -c 65536 /dev/urandom > /dev/tcp/$h1/6783" 2>/dev/null || true
tn_send_raw 4 "$h1" 6783 'WEFT\001\001\000\000\000\000\000\050\000'        # truncated hello
tn_send_raw 4 "$h1" 6783 'WEFT\001\001\000\000\377\377\377\377AAAA'        # oversized length
tn_send_raw 4 "$h1" 6783 'WEFT\011\011\000\000'                            # no common version
tn_send_raw 4 "$h1" 6783 'WEFT\001\001\000\000\000\000\000\001\000' 1      # hello, then silence
for _ in $(seq 1 40); do tn_send_raw 4 "$h1" 6783 'garbage'; done          # a burst
alive() { tn_weft 1 status >/dev/null; }
tn_check "h1 still answers" alive
tn_check "h1's mesh is intact" tn_full_mesh 3
failures() { tn_http 1 /metrics | grep -c '^weft_handshake_failures_total' ; }
tn_check "the bad connections are counted" test "$(failures)" -ge 2
tn_check "h1 logged the oversized frame" grep -q "frame of 4294967295 exceeds" "$(tn_state 1)/weftd.log"
# A handshake that stalls is dropped at the deadline and does not block others meanwhile.
tn_exec 4 bash -c "exec 3<>/dev/tcp/$h1/6783; sleep 12" 2>/dev/null &
stall=$!
sleep 1
tn_launch 4 "$h1" >/dev/null
tn_check_within 20 "a new peer joins while a handshake stalls" tn_full_mesh 4
wait $stall
tn_check "the stalled handshake timed out" grep -q "handshake timed out" "$(tn_state 1)/weftd.log"
