#!/usr/bin/env bash
# connect and forget after launch; connect --replace replaces the target list.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
for i in 1 2 3; do tn_launch "$i" >/dev/null; done
tn_check "h2 alone knows one peer" test "$(tn_peer_count 2)" = 1
tn_weft 2 connect "$(tn_ip 1)"
connected12() { [ "$(tn_established 2)" = 1 ] && tn_knows 1 h2; }
tn_check_within 15 "h1 and h2 are connected" connected12
has_target() { tn_weft "$1" status targets | grep -q "^$2"; }
tn_check "h2 lists h1 as a direct target" has_target 2 "$(tn_ip 1):6783"
tn_weft 2 forget "$(tn_ip 1)"
no_target() { ! tn_weft 2 status targets | grep -q "$(tn_ip 1):6783 *direct"; }
tn_check "after forget h2 no longer targets h1" no_target
tn_check "forget keeps the existing connection" test "$(tn_established 2)" = 1
tn_weft 3 connect "$(tn_ip 2)"
tn_check_within 15 "h3 joins and the mesh becomes full" tn_full_mesh 3
tn_weft 3 connect --replace "$(tn_ip 1)"
replaced() { has_target 3 "$(tn_ip 1):6783" && ! tn_weft 3 status targets | grep -q "$(tn_ip 2):6783 *direct"; }
tn_check "connect --replace leaves only h1 as h3's direct target" replaced
bad_flag() {
    local err rc
    err=$(tn_weft 2 connect --bogus 2>&1 >/dev/null); rc=$?
    [ $rc = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
}
tn_check "a bad flag gives one line on stderr and status 1" bad_flag
