#!/usr/bin/env bash
# `weft stop` on one router: the others drop it from their peer lists. Relaunched (same state
# directory, so the same name), it rejoins the mesh.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch_mesh 3
name3=$(tn_name 3)
tn_weft 3 stop
tn_check "h3's API is gone after stop" bash -c "! ip netns exec $(tn_ns 3) curl -sf http://127.0.0.1:6784/status >/dev/null"
gone() { ! tn_knows 1 h3 && ! tn_knows 2 h3; }
tn_check_within 10 "h1 and h2 drop h3" gone
tn_check "h1 and h2 still hold their connection" test "$(tn_established 1)" = 1
out=$(tn_launch 3 "$(tn_ip 1)")
tn_check "h3 comes back with the same name" test "$out" = "$name3"
tn_check_within 20 "h3 rejoins the full mesh" tn_full_mesh 3
# kill -9: the others notice the dead connections and drop it as well.
tn_kill 3 KILL
tn_check_within 40 "after kill -9 of h3, h1 and h2 drop it" gone
