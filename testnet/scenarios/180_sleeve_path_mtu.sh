#!/usr/bin/env bash
# Path MTU: the underlay towards h2 carries only 1428-byte packets and drops larger ones
# silently (a bridge port with a smaller MTU sends no ICMP). Probing finds that datagrams to h2
# must stay at 1400 bytes; full-size frames then travel to h2 in two fragments instead of
# vanishing. Without a password, a path too small for full VXLAN frames keeps the fast path
# off, and the report says why.
source "$(dirname "$0")/../lib.sh"
tn_setup 2
ip -n "${TN_PREFIX}ul" link set h2 mtu 1428
tn_launch_mesh 2 --ipalloc-init consensus=2 --password pmtu-secret
tn_attach 1 m1 >/dev/null; a2=$(tn_attach 2 m2)
tn_check_within 10 "small pings pass" tn_ping m1 "$a2"
mtu_to_h2() { tn_weft 1 report | jq -e --arg n "$(tn_name 2)" "[.connections[] | select(.peer == \$n) | .pathMTU] == [1400]" >/dev/null; }
tn_check_within 20 "h1 finds that datagrams to h2 may have at most 1400 bytes" mtu_to_h2
big() { tn_cexec m1 ping -c 2 -W 2 -M do -s 1348 "$a2" >/dev/null 2>&1; }
tn_check_within 10 "pings of the full overlay MTU (1376) reach h2 (in fragments)" big
tn_check "and come back" tn_cexec m2 ping -c 2 -W 2 -M do -s 1348 "$(tn_cexec m1 ip -4 -o addr show ethwe | awk '{print $4}' | cut -d/ -f1)"

# Without a password, where the underlay is too small for full VXLAN frames (1376 + 22 bytes in
# a datagram) the fast path is not used, and the report says why (Weave fell back silently).
for i in 1 2; do tn_weft $i reset >/dev/null; done
ip -n "${TN_PREFIX}ul" link set h2 mtu 1410
tn_launch_mesh 2 --ipalloc-init consensus=2
tn_attach 1 n1 >/dev/null; b2=$(tn_attach 2 n2)
too_small() {
    tn_weft 1 report | jq -e --arg n "$(tn_name 2)" '[.connections[] | select(.peer == $n)][0]
        | .datapath == "sleeve" and (.datapathReason | test("carries [0-9]+-byte datagrams, full frames need 1398"))' >/dev/null
}
tn_check_within 20 "a path of 1382-byte datagrams keeps h1–h2 on the sleeve, and the report says why" too_small
tn_log "h1 says: $(tn_weft 1 report | jq -r '.connections[0].datapathReason')"
tn_check_within 10 "full-size pings still reach h2 (sleeve fragments)" tn_cexec n1 ping -c 2 -W 2 -M do -s 1348 "$b2"
