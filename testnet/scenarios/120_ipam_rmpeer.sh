#!/usr/bin/env bash
# rmpeer: a stopped peer's space is lost to the others until `weft rmpeer` (by nickname)
# hands it over; allocation fails at once meanwhile (naming the peer) instead of hanging;
# rmpeer refuses a peer that is still reachable.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch_mesh 3 --ipalloc-range 10.40.0.0/26 --ipalloc-init consensus=3
for i in 1 2 3; do tn_check "h$i primed" tn_weft $i prime --timeout 20; done
refused() { ! tn_weft 1 rmpeer h3 2>/dev/null && tn_weft 1 rmpeer h3 2>&1 | grep -q 'still reachable'; }
tn_check "rmpeer refuses a reachable peer" refused
name3=$(tn_name 3)
owned3=$(tn_weft 1 report | jq --arg n "$name3" '.ipam.peers[] | select(.name == $n) | .owned')
tn_weft 3 stop
gone() { ! tn_knows 1 h3 && ! tn_knows 2 h3; }
tn_check_within 15 "h1 and h2 drop h3" gone
n=0
while tn_alloc $((n % 2 + 1)) "a$n" >/dev/null; do n=$((n + 1)); [ $n -lt 100 ] || break; done
tn_check "h1 and h2 allocate their own space ($n addresses)" test $n -gt 30 -a $n -lt 62
start=$SECONDS
err=$(tn_exec 1 curl -s -X POST http://127.0.0.1:6784/ip/blocked)
tn_check "the next allocation fails at once, naming the dead owner: $err" \
    bash -c "[[ '$err' == *unreachable*h3* ]] && [ $((SECONDS - start)) -le 5 ]"
out=$(tn_weft 1 rmpeer h3)
tn_check "rmpeer h3 reports what it took over: $out" test "$out" = "$owned3 IPs taken over from $name3(h3)"
taken() { tn_weft 2 report | jq -e --arg n "$name3" '[.ipam.peers[] | select(.name == $n)] | length == 0' >/dev/null; }
tn_check_within 5 "h2 learns of the take-over by gossip" taken
# Each address from h1 or else h2 (the last free address of a peer is not given away).
while tn_alloc 1 "a$n" >/dev/null || tn_alloc 2 "a$n" >/dev/null; do n=$((n + 1)); [ $n -lt 100 ] || break; done
tn_check "after rmpeer all 62 usable addresses of the /26 are handed out ($n)" test $n = 62
tn_check "rmpeer of an unknown peer is an error" bash -c "! ip netns exec $(tn_ns 1) $TN_BIN/weft rmpeer nosuchpeer 2>/dev/null"
