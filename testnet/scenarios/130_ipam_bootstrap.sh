#!/usr/bin/env bash
# IPAM bootstrap modes: two peers seeded with each other's names divide the range at once,
# with no vote; an observer owns nothing until it asks; a peer seeded differently is refused
# (both sides report the seed mismatch) and, its ring being the lesser, hands out nothing.
source "$(dirname "$0")/../lib.sh"
tn_setup 4
n1=02:00:00:00:00:01; n2=02:00:00:00:00:02; n4=02:00:00:00:00:04
tn_launch 1 --name $n1 --ipalloc-init seed=$n1,$n2 >/dev/null
tn_launch 2 --name $n2 --ipalloc-init seed=$n1,$n2 "$(tn_ip 1)" >/dev/null
tn_launch 3 --ipalloc-init observer "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h1, h2 and the observer h3 connect" tn_full_mesh 3
seeded() { tn_weft 1 report | jq -e --arg a $n1 --arg b $n2 '.ipam.ready and .ipam.seeds == [$a, $b] and (.ipam.peers | length == 2)' >/dev/null; }
tn_check_within 10 "the seeded ring is divided between h1 and h2" seeded
tn_check_within 10 "the observer learns the ring" tn_ipam_ready 3
observer_owns() { tn_weft 3 report | jq -r --arg n "$(tn_name 3)" '[.ipam.peers[] | select(.name == $n) | .owned] | add // 0'; }
tn_check "the observer owns nothing at first" test "$(observer_owns)" = 0
mode() { tn_weft 3 status ipam --json | jq -e '.mode == "observer"' >/dev/null; }
tn_check "status ipam shows the observer mode" mode
a3=$(tn_alloc 3 obs1)
tn_check "the observer allocates by asking for space ($a3)" test -n "$a3"
tn_check "the observer now owns some space, at most half of a donor's" \
    bash -c "[ $(observer_owns) -gt 0 ] && [ $(observer_owns) -le 262144 ]"
# h4 is seeded with itself only: a different ring.
tn_launch 4 --name $n4 --ipalloc-init seed=$n4 "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h4 joins the mesh" tn_full_mesh 4
conflict() { tn_weft "$1" report | jq -e '.ipam.conflicts | map(.reason) | any(contains("seed mismatch"))' >/dev/null; }
tn_check_within 10 "h4 reports the seed mismatch" conflict 4
tn_check_within 10 "h1 reports the seed mismatch" conflict 1
err=$(tn_exec 4 curl -s -X POST http://127.0.0.1:6784/ip/x)
tn_check "h4, whose ring is the lesser, refuses to allocate: $err" bash -c "[[ '$err' == *'seed mismatch'* ]]"
tn_check "h1 keeps allocating" tn_alloc 1 y
keeps() { tn_weft 2 report | jq -e --arg a $n1 --arg b $n2 '.ipam.seeds == [$a, $b]' >/dev/null; }
tn_check "h2 keeps the seeded ring" keeps
