#!/usr/bin/env bash
# IPAM state survives the router: after kill -9 and after weft stop, a relaunched router still
# holds every allocation and its ring, and hands out no address twice. weft reset hands the
# space to a live peer.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch_mesh 3 --ipalloc-init consensus=3
for i in 1 2 3; do tn_check "h$i primed" tn_weft $i prime --timeout 20; done
before="$TN_RUN/before"
: >"$before"
for j in $(seq 1 20); do echo "c$j $(tn_alloc 2 c$j)" >>"$before"; done
ring_before=$(tn_ring 2)
check_kept() {
    local id cidr
    while read -r id cidr; do [ "$(tn_http 2 /ip/$id)" = "$cidr" ] || return 1; done <"$before"
}
no_reuse() {
    local new
    new=$(tn_alloc 2 "fresh-$1") || return 1
    ! grep -q " $new\$" "$before"
}
tn_kill 2 KILL
tn_launch 2 "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h2 rejoins after kill -9" tn_full_mesh 3
tn_check "after kill -9, h2 still holds all 20 allocations" check_kept
tn_check "after kill -9, h2 owns the same ring" test "$(tn_ring 2)" = "$ring_before"
tn_check "after kill -9, a new allocation reuses no held address" no_reuse 1
tn_weft 2 stop
tn_launch 2 "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h2 rejoins after stop" tn_full_mesh 3
tn_check "after stop and relaunch, h2 still holds all 20 allocations" check_kept
tn_check "after stop and relaunch, a new allocation reuses no held address" no_reuse 2
# reset: h3 hands its space to a live peer before its state is deleted.
owned3=$(tn_weft 1 report | jq --arg n "$(tn_name 3)" '.ipam.peers[] | select(.name == $n) | .owned')
out=$(tn_weft 3 reset)
tn_check "reset says who got the space ($out)" bash -c "[[ '$out' == 'handed IPAM space to '* ]]"
heir_has_all() { [ "$(tn_weft 1 report | jq --arg n "$(tn_name 3)" '[.ipam.peers[] | select(.name == $n)] | length')" = 0 ]; }
tn_check_within 10 "nobody lists the reset peer as an owner" heir_has_all
total() { [ "$(tn_weft 1 report | jq '[.ipam.peers[].owned] | add')" = 1048576 ]; }
tn_check "the whole range is still owned ($owned3 addresses moved)" total
tn_check "reset deleted h3's state" test ! -e "$(tn_state 3)/ipam.json"
