#!/usr/bin/env bash
# Peers with the password form an encrypted mesh; a peer with a wrong password, and a peer
# without one, are refused on both sides with a log line naming the address and the reason,
# and appear in no peer list.
source "$(dirname "$0")/../lib.sh"
tn_setup 4
tn_launch 1 --password s3cret >/dev/null
tn_launch 2 --password s3cret "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h1 and h2 connect with the password" tn_full_mesh 2
tn_check "the connection is encrypted" \
    test "$(tn_weft 1 report | jq '[.connections[] | select(.state == "established" and .encrypted)] | length')" = 1
WEFT_PASSWORD=wrong tn_launch 3 "$(tn_ip 1)" >/dev/null
tn_launch 4 "$(tn_ip 1)" >/dev/null 2>&1
sleep 3
for i in 1 2; do
    n=$(tn_weft "$i" report | jq '[.peers[] | select(.nickname == "h3" or .nickname == "h4")] | length')
    tn_check "h$i's peer list has neither h3 nor h4" test "$n" = 0
done
tn_check "h3 knows only itself" test "$(tn_peer_count 3)" = 1
tn_check "h4 knows only itself" test "$(tn_peer_count 4)" = 1
tn_check "h1 logs the wrong password with h3's address" grep -q "refused 198.18.0.3:[0-9]*: authentication failed" "$(tn_state 1)/weftd.log"
tn_check "h3 logs the wrong password with h1's address" grep -q "refused 198.18.0.1:6783: authentication failed" "$(tn_state 3)/weftd.log"
tn_check "h1 logs that h4 has no password" grep -q "refused 198.18.0.4:[0-9]*: the remote has no password" "$(tn_state 1)/weftd.log"
tn_check "h4 logs that h1 requires a password" grep -q "refused 198.18.0.1:6783: the remote requires a password" "$(tn_state 4)/weftd.log"
metrics_count_auth() { tn_http 1 /metrics | grep -q 'weft_handshake_failures_total{reason="auth"}'; }
tn_check "h1 counts the failures in /metrics" metrics_count_auth
