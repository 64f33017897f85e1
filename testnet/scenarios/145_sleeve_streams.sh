#!/usr/bin/env bash
# Sleeve streams: TCP between containers on different hosts travels as super-frames (captured
# whole, carried in fragments, segmented by the receiving kernel) and arrives byte for byte,
# both ways, without and with a password, directly and through a relay; UDP datagrams arrive
# intact (their checksums finished by the receiving kernel). A non-TCP packet larger than the
# overlay MTU with Don't Fragment set is still answered with "fragmentation needed".
source "$(dirname "$0")/../lib.sh"
tn_setup 3
check=$TN_ROOT/testnet/tools/stream-check.py
# Sends 24 MiB from container A to container B (address ADDR) and checks what B received.
stream() {
    local from=$1 to=$2 address=$3 port=$((7000 + RANDOM % 1000)) got sent
    tn_cexec "$to" python3 "$check" serve tcp $port >"$TN_RUN/stream.out" 2>&1 &
    local server=$!
    sleep 0.5
    sent=$(tn_cexec "$from" timeout 60 python3 "$check" send tcp "$address" $port 24)
    wait $server
    got=$(cat "$TN_RUN/stream.out")
    tn_log "sent: $sent; received: $got"
    [ -n "$sent" ] && [ "$sent" = "$got" ]
}
superframes() { tn_counter "$1" weft_sleeve_superframes_total "direction=\"$2\""; }
for mode in plain sealed; do
    args=(--ipalloc-init consensus=3 --no-fastdp)
    [ $mode = sealed ] && args+=(--password streams-secret)
    tn_launch_mesh 3 "${args[@]}"
    declare -A addr=()
    for i in 1 2 3; do addr[$i]=$(tn_attach $i "$mode$i"); done
    tn_check_within 10 "$mode: the containers ping" tn_ping "${mode}1" "${addr[2]}"
    tn_check "$mode: 24 MiB from h1's container to h2's arrive byte for byte" stream "${mode}1" "${mode}2" "${addr[2]}"
    tn_check "$mode: h1 sent TCP super-frames whole ($(superframes 1 sent))" test "$(superframes 1 sent)" -gt 100
    tn_check "$mode: h2 received them whole ($(superframes 2 received))" test "$(superframes 2 received)" -gt 100
    tn_check "$mode: and 24 MiB back from h2's container to h1's" stream "${mode}2" "${mode}1" "${addr[1]}"
    udp() {
        local port=$((8000 + RANDOM % 1000)) n
        tn_cexec "${mode}2" python3 "$check" serve udp $port 200 >"$TN_RUN/udp.out" &
        local server=$!
        sleep 0.3
        tn_cexec "${mode}1" python3 "$check" send udp "${addr[2]}" $port 200
        wait $server
        n=$(cat "$TN_RUN/udp.out"); tn_log "udp: $n of 200 intact"
        [ "$n" -ge 190 ]
    }
    tn_check "$mode: UDP datagrams arrive intact" udp
    tn_cut 1 3
    relayed() { tn_ping "${mode}1" "${addr[3]}" 1; }
    tn_check_within 15 "$mode: with h1–h3 cut, h1's container reaches h3's through h2" relayed
    tn_check "$mode: 24 MiB through the relay arrive byte for byte" stream "${mode}1" "${mode}3" "${addr[3]}"
    tn_restore 1 3
    tn_cexec "${mode}1" ip link set ethwe mtu 3000
    out=$(tn_cexec "${mode}1" ping -c 1 -W 2 -M do -s 2000 "${addr[2]}" 2>&1)
    tn_check "$mode: an oversized ping with DF gets 'fragmentation needed' (mtu 1376)" bash -c "[[ '$out' == *'mtu = 1376'* ]]"
    for i in 1 2 3; do tn_weft $i reset >/dev/null; done
done
