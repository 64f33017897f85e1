#!/usr/bin/env bash
# The host's doors (table inet weft): the kernel's VXLAN port (UDP 6784), which with learning
# off takes frames from anyone, admits only the fast path's peers: a VXLAN frame with an echo
# for a container, from a host that is no peer, is not delivered (the same frame from a peer
# is: the control) and is counted; a peer that leaves is taken out of the set. The DNS address
# on the bridge lets containers reach UDP and TCP 53 only: not the router's control port, not
# another service of the host; DNS still answers.
source "$(dirname "$0")/../lib.sh"
export TN_NO_IPV6=1
tn_setup 3
FORGED=57454654464f52474544  # "WEFTFORGED"
tn_launch_mesh 2 --ipalloc-init consensus=2
tn_attach 1 v1 --name v1 >/dev/null; a2=$(tn_attach 2 v2 --name v2)
fastdp() { tn_weft 1 report | jq -e '[.connections[] | select(.datapath == "fastdp")] | length == 1' >/dev/null; }
tn_check_within 20 "the fast path is up between the peers" fastdp
tn_check_within 10 "the containers ping" tn_ping v1 "$a2"
# Sends, from host I, a forged VXLAN frame with an echo for v1 to h1; true when v1 saw it.
forge() {
    local from=$1 mac addr
    mac=$(tn_cexec v1 cat /sys/class/net/ethwe/address)
    addr=$(tn_cexec v1 ip -4 -o addr show ethwe | awk '{print $4}' | cut -d/ -f1)
    for _ in 1 2 3; do
        tn_exec "$from" python3 "$TN_ROOT/testnet/tools/forge-datagram.py" vxlan "$(tn_ip 1)" "$mac" "$addr" >/dev/null
        sleep 0.2
    done
}
vxlan_arrives() { tn_container_sees v1 "$FORGED" forge "$1"; }
tn_check "a VXLAN frame from a peer's address reaches the container (the control)" vxlan_arrives 2
refused=$(tn_counter 1 weft_firewall_dropped_total 'rule="vxlan"')
from_stranger() { ! vxlan_arrives 3; }
tn_check "the same frame from a host that is no peer does not" from_stranger
counted() { [ "$(tn_counter 1 weft_firewall_dropped_total 'rule="vxlan"')" -gt "$refused" ]; }
tn_check "and is counted (weft_firewall_dropped_total{rule=\"vxlan\"})" counted

# The DNS address: a listener of the host's on every address, and the router's own port.
tn_exec 1 timeout 40 python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 2222)); s.listen(); time.sleep(40)" &
sleep 0.5
reaches() { tn_cexec v1 timeout 2 bash -c "echo > /dev/tcp/$1/$2" 2>/dev/null; }
host_reaches() { tn_exec 1 timeout 2 bash -c "echo > /dev/tcp/127.0.0.1/$1" 2>/dev/null; }
tn_check "the host's listener answers on the host (the control)" host_reaches 2222
no_6783() { ! reaches 169.254.53.53 6783; }
tn_check "a container cannot reach the router's control port through the DNS address" no_6783
no_2222() { ! reaches 169.254.53.53 2222; }
tn_check "nor another listening port of the host" no_2222
resolves() { tn_cexec v1 getent hosts v2.weft.local | grep -q "$a2"; }
tn_check "DNS still answers there" resolves
service_counted() { [ "$(tn_counter 1 weft_firewall_dropped_total 'rule="service"')" -gt 0 ]; }
tn_check "and the refused connections are counted" service_counted

tn_weft 2 stop
left() { ! tn_exec 1 nft list set inet weft fastdp_peers | grep -q "$(tn_ip 2)"; }
tn_check_within 3 "a peer that leaves is removed from the set" left
tn_weft 1 reset
no_table() { ! tn_exec 1 nft list table inet weft >/dev/null 2>&1; }
tn_check "reset removes the table" no_table
