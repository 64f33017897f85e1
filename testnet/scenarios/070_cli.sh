#!/usr/bin/env bash
# The CLI: launch refuses a second router, status/report JSON keys, metrics, errors, reset.
source "$(dirname "$0")/../lib.sh"
tn_setup 2
name=$(tn_launch 1)
plumbing() { tn_exec 1 ip link show weft | grep -q UP && tn_exec 1 ip link show vethwe-bridge | grep -q "master weft" && tn_exec 1 ip link show vethwe-pcap >/dev/null; }
tn_check "launch creates the bridge weft and the vethwe-bridge/vethwe-pcap pair" plumbing
tn_check "launch prints a peer name" bash -c "[[ '$name' =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]]"
second() { ! tn_launch 1 2>/dev/null; }
tn_check "a second launch in the same namespace is refused" second
tn_launch 2 "$(tn_ip 1)" >/dev/null
tn_check_within 15 "the two routers connect" tn_full_mesh 2
keys() {
    tn_weft 1 report | jq -e '.router.name and .router.nickname and (.peers[0] | has("name") and has("nickname") and has("connections"))
        and (.connections[0] | has("peer") and has("address") and has("state") and has("datapath") and has("encrypted"))
        and (.peers[0].connections[0] | has("name") and has("address") and has("outbound") and has("established"))
        and (.routes.unicast | length == 1)' >/dev/null
}
tn_check "report carries the contract's keys" keys
peers_json() { [ "$(tn_weft 1 status peers --json | jq 'length')" = 2 ]; }
tn_check "status peers --json lists both peers" peers_json
conns_json() { tn_weft 1 status connections --json | jq -e '.[0].state == "established"' >/dev/null; }
tn_check "status connections --json" conns_json
metrics() { tn_http 1 /metrics | grep -q '^weft_peers 2' && tn_http 1 /metrics | grep -q 'weft_connections{state="established"} 1' && tn_http 1 /metrics | grep -q 'weft_gossip_messages_total{channel="topology"'; }
tn_check "metrics: peers, connections, gossip" metrics
for cmd in launch connect forget status report attach detach ps expose hide dns-add dns-remove dns-lookup rmpeer prime stop reset version; do
    tn_check "weft $cmd --help" bash -c "$TN_BIN/weft $cmd --help >/dev/null"
done
not_running_error() {
    local err
    err=$(tn_weft 2 stop 2>&1); tn_weft 2 status >/dev/null 2>&1 && return 1
    err=$(tn_weft 2 status 2>&1 >/dev/null); [ $? = 1 ] || true
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [[ "$err" == weft:* ]]
}
tn_check "status with no router: one line, status 1" not_running_error
tn_weft 1 reset
tn_check "reset deletes the state" test ! -e "$(tn_state 1)/peer-name"
no_bridge() { ! tn_exec 1 ip link show weft >/dev/null 2>&1 && ! tn_exec 1 ip link show vethwe-pcap >/dev/null 2>&1; }
tn_check "reset removes the bridge weft and the vethwe pair" no_bridge
new=$(tn_launch 1)
tn_check "after reset the router has a new name" test "$new" != "$name"
bad_flag() {
    local err
    err=$(tn_weft 2 launch --ipalloc-init "$1" 2>&1 >/dev/null) && return 1
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [[ "$err" == weft:*ipalloc* ]]
}
tn_check "a bad --ipalloc-init: one line naming the flag" bad_flag bogus
tn_check "a bad consensus count: one line" bad_flag consensus=zero
bad_range() {
    local err
    err=$(tn_weft 2 launch --ipalloc-range 10.32.0.1/12 2>&1 >/dev/null) && return 1
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [[ "$err" == weft:*ipalloc-range* ]]
}
tn_check "a range that is not a network: one line" bad_range
no_ipam() {
    tn_launch 2 --ipalloc-range "" "$(tn_ip 1)" >/dev/null || return 1
    [ "$(tn_exec 2 curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:6784/ip/x)" = 404 ] &&
        tn_weft 2 report | jq -e 'has("ipam") | not' >/dev/null
}
tn_check "an empty --ipalloc-range turns IPAM off" no_ipam
