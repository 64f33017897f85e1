#!/usr/bin/env bash
# Fast path: without a password three hosts use the kernel VXLAN (fastdp) between every pair and
# their containers ping each other; the frames travel in UDP 6784, not 6783; with h1–h3 cut,
# h1's containers reach h3's through h2 (sleeve relay) while h1–h2 stays on fastdp, and h1–h3
# returns to fastdp on its own after the cut is lifted; a host launched with --no-fastdp stays
# on sleeve; with a password the fast path is off and a capture shows no payload in clear
# (with --trusted-subnets too: scenario 170).
source "$(dirname "$0")/../lib.sh"
export TN_NO_IPV6=1
tn_setup 3
tn_launch_mesh 3 --ipalloc-init consensus=3
declare -A addr
for i in 1 2 3; do addr[$i]=$(tn_attach $i "f$i"); done
datapath() {  # datapath HOST PEER-HOST: what HOST's report says of its connection to PEER-HOST
    tn_weft "$1" report | jq -r --arg n "$(tn_name "$2")" '[.connections[] | select(.peer == $n) | .datapath][0] // "none"'
}
all_fastdp() { for i in 1 2 3; do for j in 1 2 3; do
    [ $i = $j ] || [ "$(datapath $i $j)" = fastdp ] || return 1
done; done; }
tn_check_within 10 "every connection of the three hosts is on fastdp" all_fastdp
device() { local d; d=$(ip -n "$(tn_ns 1)" -d link show vxlan-6784); grep -q 'master weft' <<<"$d" && grep -q 'dstport 6784' <<<"$d" && grep -q 'nolearning' <<<"$d"; }
tn_check "the VXLAN device (dstport 6784, nolearning) is on the bridge" device
for i in 1 2 3; do for j in 1 2 3; do
    [ $i = $j ] && continue
    tn_check_within 10 "container on h$i pings the one on h$j" tn_ping "f$i" "${addr[$j]}"
done; done
text() { tn_weft 1 status connections | grep -c ' fastdp ' | grep -qx 2; }
tn_check "weft status connections says fastdp" text

# Which UDP port carries the frames: capture both ports while pinging with a pattern.
file=$(tn_capture_ports 1 f1 "${addr[2]}")
tn_check "the ping's frames appear on UDP 6784" tn_capture_shows "$file.6784"
tn_check "and not on UDP 6783 (the sleeve)" tn_capture_hides "$file.6783"

before=$(tn_http 1 /metrics | awk -F' ' '/^weft_fastdp_transitions_total\{to="sleeve"\}/ {print $2}')
tn_cut 1 3
not_fastdp() { [ "$(datapath 1 3)" != fastdp ]; }
tn_check_within 15 "with h1–h3 cut, h1 no longer uses fastdp towards h3" not_fastdp
tn_check_within 15 "h1's container reaches h3's through h2" tn_ping f1 "${addr[3]}" 3
tn_check "and h3's reaches h1's" tn_ping f3 "${addr[1]}" 2
stays() { [ "$(datapath 1 2)" = fastdp ]; }
tn_check "h1–h2 stays on fastdp" stays
counted() { [ "$(tn_http 1 /metrics | awk '/^weft_fastdp_transitions_total\{to="sleeve"\}/ {print $2}')" -gt "${before:-0}" ]; }
tn_check "/metrics counted the change" counted
start=$SECONDS
tn_restore 1 3
back() { [ "$(datapath 1 3)" = fastdp ] && [ "$(datapath 3 1)" = fastdp ]; }
tn_check_within 60 "after the cut is lifted h1–h3 returns to fastdp (within a minute)" back
tn_log "h1–h3 back on fastdp $((SECONDS - start)) s after the cut was lifted"
tn_check "and the containers ping" tn_ping f1 "${addr[3]}"

reason() {  # reason HOST PEER-HOST: why HOST's report says its connection to PEER-HOST is on sleeve
    tn_weft "$1" report | jq -r --arg n "$(tn_name "$2")" '[.connections[] | select(.peer == $n) | .datapathReason][0] // ""'
}
# Only the VXLAN port blocked (on h1, inbound): TCP and the sleeve's UDP still pass.
tn_exec 1 nft -f - <<'NFT'
table inet tn_block_vxlan {
    chain in { type filter hook input priority 0; udp dport 6784 drop; }
}
NFT
blocked() { [ "$(datapath 1 2)" = sleeve ] && [ "$(datapath 2 1)" = sleeve ]; }
tn_check_within 15 "with UDP 6784 blocked on h1, h1–h2 falls back to sleeve (both ends)" blocked
unanswered() { [[ "$(reason 1 2)" == *'no answer to probes on UDP 6784'* ]]; }
tn_check "the report says why: no answer to the probes" unanswered
said() { tn_weft 1 status connections | grep "$(tn_name 2)" | grep 'sleeve' | grep -q 'no answer to probes'; }
tn_check "weft status connections says it too" said
tn_check "and the containers ping over the sleeve" tn_ping f1 "${addr[2]}" 2
tn_exec 1 nft delete table inet tn_block_vxlan
unblocked() { [ "$(datapath 1 2)" = fastdp ] && [ "$(datapath 2 1)" = fastdp ] && [ -z "$(reason 1 2)" ]; }
tn_check_within 30 "unblocked, h1–h2 returns to fastdp (no reason given any more)" unblocked

tn_kill 3
tn_launch 3 --ipalloc-init consensus=3 --no-fastdp "$(tn_ip 1)" >/dev/null
tn_check_within 20 "full mesh again" tn_full_mesh 3
sleeve_only() { [ "$(datapath 1 3)" = sleeve ] && [ "$(datapath 3 1)" = sleeve ] && [ "$(datapath 3 2)" = sleeve ] && [ "$(datapath 1 2)" = fastdp ]; }
tn_check_within 10 "--no-fastdp on h3: its connections are on sleeve, h1–h2 still on fastdp" sleeve_only
tn_check "h3 has no VXLAN device" bash -c "! ip -n $(tn_ns 3) link show vxlan-6784 2>/dev/null"
told() { [[ "$(reason 1 3)" == 'the peer has no fast path'* && "$(reason 3 1)" == 'the fast path is off on this host' ]]; }
tn_check "the reports say why: h1 that h3 has no fast path, h3 that it is off there" told
tn_check_within 10 "h1's container pings h3's over the sleeve" tn_ping f1 "${addr[3]}"

for i in 1 2 3; do tn_weft $i reset >/dev/null; done
tn_check "reset removes the VXLAN device" bash -c "! ip -n $(tn_ns 1) link show vxlan-6784 2>/dev/null"
tn_launch_mesh 2 --ipalloc-init consensus=2 --password fast-secret
p1=$(tn_attach 1 p1); p2=$(tn_attach 2 p2)
tn_check_within 10 "with a password the containers ping" tn_ping p1 "$p2"
sealed() { [ "$(datapath 1 2)" = sleeve ] && ! ip -n "$(tn_ns 1)" link show vxlan-6784 >/dev/null 2>&1; }
tn_check "with a password the fast path is off (sleeve, no VXLAN device)" sealed
file=$(tn_capture_ports 1 p1 "$p2")
tn_check "a capture of the underlay shows no payload byte in clear" tn_capture_hides "$file"
tn_check "and nothing on UDP 6784" bash -c "[ -z \"\$(tcpdump -r $file.6784 2>/dev/null)\" ]"
