#!/usr/bin/env bash
# With the underlay between h1 and h5 cut before launch, h1 and h5 still learn of each other
# through gossip, and h1's route to h5 goes through another peer.
source "$(dirname "$0")/../lib.sh"
tn_setup 5
tn_cut 1 5
tn_launch 1 >/dev/null
for i in 2 3 4; do tn_launch "$i" "$(tn_ip 1)" >/dev/null; done
tn_launch 5 "$(tn_ip 2)" >/dev/null
tn_check_within 20 "h1 knows h5" tn_knows 1 h5
tn_check_within 20 "h5 knows h1" tn_knows 5 h1
h5=$(tn_name 5); h1=$(tn_name 1)
relay_route() { local hop; hop=$(tn_next_hop 1 "$h5"); [ "$hop" != null ] && [ "$hop" != "$h5" ]; }
tn_check_within 20 "h1's route to h5 goes through another peer" relay_route
hop=$(tn_next_hop 1 "$h5")
tn_log "h1 -> h5 via $hop"
back=$(tn_next_hop 5 "$h1")
tn_check "h5's route to h1 is not direct" test "$back" != null -a "$back" != "$h1"
tn_check "h1 has no established connection to h5" \
    test "$(tn_weft 1 report | jq --arg n "$h5" '[.connections[] | select(.peer == $n and .state == "established")] | length')" = 0
