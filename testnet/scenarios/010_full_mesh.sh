#!/usr/bin/env bash
# Five hosts that each know only h1 reach a full mesh through gossip.
source "$(dirname "$0")/../lib.sh"
tn_setup 5
tn_launch 1 >/dev/null
for i in 2 3 4 5; do tn_launch "$i" "$(tn_ip 1)" >/dev/null; done
tn_check_within 20 "every host knows 5 peers and holds 4 established connections" tn_full_mesh 5
for i in 1 2 3 4 5; do
    tn_check "h$i has a direct route to every peer" \
        test "$(tn_weft "$i" report | jq '[.routes.unicast | to_entries[] | select(.key == .value)] | length')" = 4
done
status_counts_peers() { tn_weft 3 status | grep -q 'Peers: 5 (with 20 established connections)'; }
tn_check "weft status counts 5 peers and 20 connections" status_counts_peers
