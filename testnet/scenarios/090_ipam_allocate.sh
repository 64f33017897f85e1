#!/usr/bin/env bash
# IPAM: four routers agree by consensus, split the range evenly, and hand out 200 addresses
# with no duplicate; lookup, free, claim and the status/report keys.
source "$(dirname "$0")/../lib.sh"
tn_setup 4
tn_launch_mesh 4 --ipalloc-init consensus=4
for i in 1 2 3 4; do tn_check "h$i: weft prime returns" tn_weft $i prime --timeout 20; done
tn_check_within 10 "all four see one ring" tn_same_ring 4
# Launched within 10 s of each other, all four are in the first division.
even() { [ "$(tn_weft 1 report | jq '[.ipam.peers[].owned] | (length == 4) and (add == 1048576) and (max - min <= 1)')" = true ]; }
tn_check "the /12 is split evenly among the four" even
out="$TN_RUN/allocations"
: >"$out"
for i in 1 2 3 4; do
    for j in $(seq 1 50); do tn_alloc $i "c$i-$j" >>"$out" || echo "FAILED h$i c$i-$j" >>"$out"; done
done
tn_check "200 allocations answered" test "$(grep -c '^10\.' "$out")" = 200
tn_check "no address handed out twice" test -z "$(sort "$out" | uniq -d)"
tn_check "addresses carry the range's prefix" test "$(grep -c '/12$' "$out")" = 200
again=$(tn_alloc 2 c2-7)
tn_check "allocating again for the same ID returns the same address" test "$again" = "$(tn_http 2 /ip/c2-7)"
ipam_json() {
    tn_weft 3 status ipam --json | jq -e '.range == "10.32.0.0/12" and .allocated == 50 and (.peers | length == 4)
        and (.peers[0] | has("name") and has("nickname") and has("owned") and has("free") and has("reachable"))' >/dev/null
}
tn_check "status ipam --json: range, peers, allocated" ipam_json
ipam_text() { tn_weft 1 status ipam | grep -q '(h4)'; }
tn_check "status ipam (text) names the peers" ipam_text
# Free, then claim the same address back (what a restarted container does).
addr=$(tn_http 1 /ip/c1-1); addr=${addr%/*}
tn_exec 1 curl -sf -X DELETE http://127.0.0.1:6784/ip/c1-1 >/dev/null
tn_check "a freed ID has no address" bash -c "! ip netns exec $(tn_ns 1) curl -sf http://127.0.0.1:6784/ip/c1-1"
tn_check "the owner accepts a claim of the freed address" tn_exec 1 curl -sf -X PUT "http://127.0.0.1:6784/ip/c1-1/$addr"
code=$(tn_exec 2 curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:6784/ip/x/$addr")
tn_check "another peer refuses to claim an address it does not own (409)" test "$code" = 409
code=$(tn_exec 1 curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:6784/ip/other/$addr")
tn_check "an address held by another ID cannot be claimed (409)" test "$code" = 409
sub=$(tn_alloc 3 s1 10.33.0.0/16)
tn_check "allocation in a subnet of the range: $sub" bash -c "[[ '$sub' == 10.33.* && '$sub' == */16 ]]"
code=$(tn_exec 3 curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:6784/ip/s2/192.168.0.0/24)
tn_check "a subnet outside the range is refused (400)" test "$code" = 400
metrics() { tn_http 4 /metrics | grep -q '^weft_ipam_allocated 50'; }
tn_check "metrics count allocations" metrics
