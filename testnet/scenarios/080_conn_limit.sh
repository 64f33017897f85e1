#!/usr/bin/env bash
# --conn-limit bounds a router's connections: h3 (limit 1) keeps one connection, refuses the
# others with a logged reason, and still learns the whole mesh through gossip.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch 1 >/dev/null
tn_launch 2 "$(tn_ip 1)" >/dev/null
tn_launch 3 --conn-limit 1 "$(tn_ip 1)" >/dev/null
knows_all() { [ "$(tn_peer_count 3)" = 3 ] && [ "$(tn_peer_count 2)" = 3 ]; }
tn_check_within 15 "h3 learns all three peers through its one connection" knows_all
sleep 3
tn_check "h3 holds exactly one established connection" test "$(tn_established 3)" = 1
refused() { grep -q "refused 198.18.0.2:[0-9]* (.*): connection limit reached" "$(tn_state 3)/weftd.log"; }
tn_check_within 15 "h3 refuses h2 because of the limit" refused
tn_check "h1 and h2 stay connected to each other" test "$(tn_established 2)" -ge 1
