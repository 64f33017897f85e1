#!/usr/bin/env bash
# Sleeve security and MTU. Without a password a capture of the underlay shows the payload (the
# control); with one it shows no byte of it. A captured datagram sent again is dropped as a
# replay, and an altered one as a forgery, both counted, neither delivered. A frame larger than
# the overlay MTU with Don't Fragment set is answered with ICMP "fragmentation needed"; one of
# a jumbo overlay MTU travels in fragments.
source "$(dirname "$0")/../lib.sh"
export TN_NO_IPV6=1  # frames are counted: keep the containers quiet
tn_setup 2
for mode in plain sealed; do
    args=(--ipalloc-init consensus=2 --no-fastdp)  # the sleeve under test, not the fast path
    # The sealed round also runs a jumbo overlay (carried in fragments).
    [ $mode = sealed ] && args+=(--password secure-secret --mtu 8192)
    tn_launch_mesh 2 "${args[@]}"
    tn_attach 1 "${mode}1" >/dev/null
    a2=$(tn_attach 2 "${mode}2")
    tn_check_within 10 "$mode: the containers ping" tn_ping "${mode}1" "$a2"
    file=$(tn_capture_ping 2 "${mode}1" "$a2")
    if [ $mode = plain ]; then
        tn_check "plain: the capture shows the payload (control)" tn_capture_shows "$file"
    else
        tn_check "sealed: the capture (of the same traffic) shows no byte of the payload's pattern" tn_capture_hides "$file"
        count() { tn_counter 2 "$1" "$2"; }
        # No ARP either while frames are counted: permanent neighbour entries both ways.
        a1=$(tn_cexec sealed1 ip -4 -o addr show ethwe | awk '{print $4}' | cut -d/ -f1)
        tn_cexec sealed1 ip neigh replace "$a2" lladdr "$(tn_cexec sealed2 cat /sys/class/net/ethwe/address)" nud permanent dev ethwe
        tn_cexec sealed2 ip neigh replace "$a1" lladdr "$(tn_cexec sealed1 cat /sys/class/net/ethwe/address)" nud permanent dev ethwe
        sleep 1
        received=$(count weft_sleeve_frames_total 'direction="received"')
        replayed=$(count weft_sleeve_dropped_total 'reason="replayed"')
        tn_exec 1 python3 "$TN_ROOT/testnet/tools/resend-datagram.py" "$file" "$(tn_ip 1)" "$(tn_ip 2)" 6783 >/dev/null
        more_replays() { [ "$(count weft_sleeve_dropped_total 'reason="replayed"')" -gt "$replayed" ]; }
        tn_check_within 5 "sealed: a datagram sent again is dropped and counted as replayed" more_replays
        tn_check "sealed: and not delivered" test "$(count weft_sleeve_frames_total 'direction="received"')" = "$received"
        forged=$(count weft_sleeve_dropped_total 'reason="forged"')
        tn_exec 1 python3 "$TN_ROOT/testnet/tools/resend-datagram.py" "$file" "$(tn_ip 1)" "$(tn_ip 2)" 6783 --flip >/dev/null
        more_forged() { [ "$(count weft_sleeve_dropped_total 'reason="forged"')" -gt "$forged" ]; }
        tn_check_within 5 "sealed: an altered datagram is dropped and counted as forged" more_forged
        tn_check "sealed: and not delivered" test "$(count weft_sleeve_frames_total 'direction="received"')" = "$received"
        # MTU: a full-size frame passes; a larger one with DF is answered with the overlay MTU.
        # MTU: a packet of the overlay MTU passes (in fragments: more than one datagram);
        # a larger one with DF is answered with the overlay MTU.
        tn_check "sealed: a packet of the jumbo overlay MTU (8192) passes" tn_cexec sealed1 ping -c 1 -W 2 -M do -s 8164 "$a2"
        tn_cexec sealed1 ip link set ethwe mtu 9000
        out=$(tn_cexec sealed1 ping -c 1 -W 2 -M do -s 8900 "$a2" 2>&1)
        tn_check "sealed: a too-big packet with DF gets 'fragmentation needed' (mtu 8192)" bash -c "[[ '$out' == *'mtu = 8192'* ]]"
        tn_check "sealed: the sender then pings at the learned MTU" tn_cexec sealed1 ping -c 2 -W 2 -s 8900 "$a2"
    fi
    for i in 1 2; do tn_weft $i reset >/dev/null; done
done
