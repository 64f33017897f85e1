#!/usr/bin/env bash
# Frame injection from the underlay. A third host, no peer of the mesh, forges an unsealed
# sleeve datagram that claims to come from h2 and carries an ICMP echo for h1's container.
# Without a password nothing is authenticated (the control: the forgery works, the container
# sees it). With a password and --trusted-subnets, where frames between the two trusting peers
# travel unsealed, the same datagram is refused: it does not come from h2's own underlay
# address and port. Nothing reaches the container (a capture inside it), and the drop is
# counted with its reason.
source "$(dirname "$0")/../lib.sh"
export TN_NO_IPV6=1
tn_setup 3
FORGED=57454654464f52474544  # "WEFTFORGED", the forged echo's payload
# Forges, from host 3, an unsealed datagram claiming to be h2 with an echo for container C.
forge() {
    local mac=$1 addr=$2
    for _ in 1 2 3; do
        tn_exec 3 python3 "$TN_ROOT/testnet/tools/forge-datagram.py" sleeve "$(tn_ip 1)" "$(tn_name 2)" "$(tn_name 1)" "$mac" "$addr" >/dev/null
        sleep 0.2
    done
}
forged_arrives() {
    local c=$1
    tn_container_sees "$c" "$FORGED" forge "$(tn_cexec "$c" cat /sys/class/net/ethwe/address)" \
        "$(tn_cexec "$c" ip -4 -o addr show ethwe | awk '{print $4}' | cut -d/ -f1)"
}

tn_launch_mesh 2 --ipalloc-init consensus=2 --no-fastdp
tn_attach 1 p1 >/dev/null; a2=$(tn_attach 2 p2)
tn_check_within 10 "no password: the containers ping" tn_ping p1 "$a2"
tn_check "no password (nothing authenticated, the control): the forged frame reaches the container" forged_arrives p1
for i in 1 2; do tn_weft $i reset >/dev/null; done

tn_launch_mesh 2 --ipalloc-init consensus=2 --no-fastdp --password forge-secret --trusted-subnets 198.18.0.0/24
tn_attach 1 t1 >/dev/null; a2=$(tn_attach 2 t2)
tn_check_within 10 "password, trusted subnets: the containers ping" tn_ping t1 "$a2"
file=$(tn_capture_ping 2 t1 "$a2")
tn_check "and their frames cross unsealed (both trust each other)" tn_capture_shows "$file"
spoofed=$(tn_counter 1 weft_sleeve_dropped_total 'reason="spoofed_source"')
not_delivered() { ! forged_arrives t1; }
tn_check "a forged unsealed datagram claiming to be h2 does not reach the container" not_delivered
counted() { [ "$(tn_counter 1 weft_sleeve_dropped_total 'reason="spoofed_source"')" -gt "$spoofed" ]; }
tn_check "and it is counted as spoofed_source" counted
tn_check "the containers still ping" tn_ping t1 "$a2"
