#!/usr/bin/env bash
# Sleeve: containers attached on three hosts (addresses from IPAM) ping each other, every pair,
# without and then with a password; ARP and broadcasts cross hosts; expose/hide; ps, detach.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
for mode in plain encrypted; do
    args=(--ipalloc-init consensus=3 --no-fastdp)  # the sleeve under test, not the fast path
    [ $mode = encrypted ] && args+=(--password sleeve-secret)
    tn_launch_mesh 3 "${args[@]}"
    declare -A addr=()
    for i in 1 2 3; do addr[$i]=$(tn_attach $i "$mode$i"); done
    tn_check "$mode: three containers got addresses: ${addr[*]}" test ${#addr[@]} = 3
    for i in 1 2 3; do for j in 1 2 3; do
        [ $i = $j ] && continue
        tn_check_within 10 "$mode: container on h$i pings the one on h$j" tn_ping "$mode$i" "${addr[$j]}"
    done; done
    arp() { tn_cexec "${mode}1" ip neigh show "${addr[2]}" | grep -q "lladdr"; }
    tn_check "$mode: ARP resolved across hosts" arp
    for i in 2 3; do tn_cexec "$mode$i" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0; done
    bcast() { tn_cexec "${mode}1" ping -b -c 3 -i 0.3 -W 2 10.47.255.255 2>/dev/null | grep -c "bytes from" | grep -qv '^0$'; }
    tn_check "$mode: a broadcast ping is answered from other hosts" bcast
    exposed=$(tn_weft 1 expose)
    tn_check "$mode: expose gives h1 an overlay address ($exposed)" bash -c "[[ '$exposed' == 10.* ]]"
    host_pings() { tn_exec 1 ping -c 1 -W 2 "${addr[2]}" >/dev/null 2>&1; }
    tn_check_within 10 "$mode: the exposed host h1 pings the container on h2" host_pings
    tn_weft 1 hide >/dev/null
    hidden() { ! tn_exec 1 ip -4 addr show weft | grep -q "${exposed%%/*}"; }
    tn_check "$mode: hide takes the address back" hidden
    if [ $mode = encrypted ]; then
        enc() { tn_weft 1 report | jq -e '[.connections[] | select(.encrypted and .direct)] | length == 2' >/dev/null; }
        tn_check "$mode: both connections encrypted with a direct UDP path" enc
    fi
    ps_lists() { tn_weft 2 ps | grep -q "^$(tn_ns 2 | sed 's/h2$//')c-${mode}2 .* ${addr[2]}/"; }
    tn_check "$mode: ps lists the container with its address" ps_lists
    tn_weft 2 detach "${TN_PREFIX}c-${mode}2"
    gone() { ! tn_ping "${mode}1" "${addr[2]}" 1; }
    tn_check "$mode: after detach the container is unreachable" gone
    freed() { ! tn_http 2 "/ip/${TN_PREFIX}c-${mode}2" >/dev/null; }
    tn_check "$mode: detach freed its address" freed
    for i in 1 2 3; do tn_weft $i reset >/dev/null; done
done
