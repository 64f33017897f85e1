#!/usr/bin/env bash
# Relay: with the underlay between h1 and h3 cut, h1's container still reaches h3's through h2
# (status shows the h1–h3 path relayed); after the cut is lifted the path is direct again.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch_mesh 3 --ipalloc-init consensus=3 --password relay-secret
a1=$(tn_attach 1 r1); a3=$(tn_attach 3 r3)
tn_check_within 10 "h1's container pings h3's directly" tn_ping r1 "$a3"
direct() { tn_weft 1 report | jq -e --arg n "$(tn_name 3)" "[.connections[] | select(.peer == \$n) | .direct] == [$1]" >/dev/null; }
tn_check "h1 reports a direct UDP path to h3" direct true
relayed_before=$(tn_counter 2 weft_sleeve_frames_total 'direction="relayed"')
tn_cut 1 3
tn_check_within 15 "h1 sees the direct path to h3 fail" direct false
tn_check_within 10 "with h1–h3 cut, h1's container still pings h3's (through h2)" tn_ping r1 "$a3" 3
tn_check "and h3's pings h1's" tn_ping r3 "$a1" 2
relayed() { [ "$(tn_counter 2 weft_sleeve_frames_total 'direction="relayed"')" -gt "$relayed_before" ]; }
tn_check "h2 relayed the frames" relayed
tn_check "status connections shows the relay" bash -c "ip netns exec $(tn_ns 1) $TN_BIN/weft status connections | grep -q 'sleeve(relay)'"
tn_restore 1 3
tn_check_within 30 "after the cut is lifted, h1's path to h3 is direct again" direct true
tn_check "and the containers still ping" tn_ping r1 "$a3"
