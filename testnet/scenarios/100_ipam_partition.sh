#!/usr/bin/env bash
# IPAM across a partition: four routers on a small range split 2|2; both halves keep allocating
# (asking each other for space within their half); after the partition heals, the rings merge
# and no address is held twice.
source "$(dirname "$0")/../lib.sh"
tn_setup 4
tn_launch_mesh 4 --ipalloc-range 10.40.0.0/24 --ipalloc-init consensus=4
for i in 1 2 3 4; do tn_check "h$i primed" tn_weft $i prime --timeout 20; done
for a in 1 2; do for b in 3 4; do tn_cut $a $b; done; done
split() { [ "$(tn_next_hop 1 "$(tn_name 3)")" = null ] && [ "$(tn_next_hop 3 "$(tn_name 1)")" = null ] \
          && [ "$(tn_next_hop 2 "$(tn_name 4)")" = null ]; }
tn_check_within 60 "the mesh splits into h1,h2 | h3,h4" split
out="$TN_RUN/allocations"
: >"$out"
for i in 1 2 3 4; do
    for j in $(seq 1 40); do tn_alloc $i "p$i-$j" >>"$out" || echo "FAILED h$i p$i-$j" >>"$out"; done
done
tn_check "160 allocations during the partition (40 per host, past each host's own share)" \
    test "$(grep -c '^10\.' "$out")" = 160
for i in 1 2; do tn_exec $i curl -sf -X DELETE "http://127.0.0.1:6784/ip/p$i-1" >/dev/null; done
for a in 1 2; do for b in 3 4; do tn_restore $a $b; done; done
tn_check_within 60 "the mesh heals" tn_full_mesh 4
tn_check_within 20 "the four rings converge" tn_same_ring 4
for i in 1 2 3 4; do
    for j in $(seq 1 10); do tn_alloc $i "q$i-$j" >>"$out" || echo "FAILED h$i q$i-$j" >>"$out"; done
done
held="$TN_RUN/held"
: >"$held"
for i in 1 2 3 4; do
    for id in $(seq 1 40 | sed "s/^/p$i-/") $(seq 1 10 | sed "s/^/q$i-/"); do
        tn_http $i "/ip/$id" >>"$held" 2>/dev/null || true
    done
done
tn_check "all 40 allocations after healing answered" test "$(grep -c FAILED "$out")" = 0
tn_check "198 addresses held (2 freed)" test "$(wc -l <"$held")" = 198
tn_check "no address is held twice across the four routers" test -z "$(sort "$held" | uniq -d)"
no_conflicts() { tn_weft 1 report | jq -e '.ipam.conflicts | length == 0' >/dev/null; }
tn_check "no ring conflict reported" no_conflicts
