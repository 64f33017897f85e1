#!/usr/bin/env bash
# Weft testnet: hosts are network namespaces on an underlay bridge that lives in its own
# namespace. Addresses come from 198.18.0.0/15; no namespace has a default route or any link
# to the machine's interfaces; nothing is created in the root namespace. Source this file,
# call tn_setup N, and everything is torn down on exit (also after a failure or Ctrl-C).
#
#   tn_setup N            hosts h1..hN (198.18.0.1..N/24) on the underlay
#   tn_exec I CMD...      run CMD in host I with its own WEFT_STATE_DIR
#   tn_weft I ARGS...     run the weft CLI in host I
#   tn_ip I               host I's underlay address
#   tn_cut I J / tn_restore I J   drop / restore underlay traffic between hosts I and J (nftables)
#   tn_container I NAME   a container namespace for host I (attached later with weft attach)
#   tn_teardown           stop routers, delete namespaces (runs by itself on exit)
#
# More than about 30 hosts: all namespaces share the kernel's neighbour table (1024 entries by
# default, "neighbor table overflow" and ENOBUFS beyond); tn_setup raises its limits for the run
# and tn_teardown puts the old values back.

set -u
TN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TN_BIN=${TN_BIN:-$TN_ROOT/.build/debug}
TN_ID=${TN_ID:-$$}
TN_PREFIX="wft${TN_ID}-"
TN_RUN="$TN_ROOT/testnet/.run/$TN_ID"
TN_HOSTS=0
TN_CONTAINERS=()

tn_ns() { echo "${TN_PREFIX}h$1"; }
tn_ip() { echo "198.18.0.$1"; }
tn_state() { echo "$TN_RUN/h$1"; }

tn_log() { printf '[testnet] %s\n' "$*" >&2; }

tn_setup() {
    local n=$1 i
    [ "$(id -u)" = 0 ] || { echo "testnet needs root (network namespaces)" >&2; exit 1; }
    trap tn_teardown EXIT
    trap 'exit 130' INT TERM
    mkdir -p "$TN_RUN"
    [ "$n" -gt 30 ] && tn_raise_neigh_limits "$n"
    ip netns add "${TN_PREFIX}ul"
    ip -n "${TN_PREFIX}ul" link set lo up
    ip -n "${TN_PREFIX}ul" link add br0 type bridge
    ip -n "${TN_PREFIX}ul" link set br0 up
    tn_no_bridge_netfilter "${TN_PREFIX}ul"
    for i in $(seq 1 "$n"); do tn_add_host "$i"; done
}

# Neighbour-table limits for N hosts (each host holds an entry per other host, and then some),
# saved first so tn_teardown restores them. Only ever raised, never lowered.
TN_NEIGH_SAVED=""
tn_raise_neigh_limits() {
    local n=$1 k want cur
    TN_NEIGH_SAVED=$(sysctl -n net.ipv4.neigh.default.gc_thresh1 net.ipv4.neigh.default.gc_thresh2 \
        net.ipv4.neigh.default.gc_thresh3 | tr '\n' ' ')
    for k in 1 2 3; do
        want=$((n * n * k * 2))
        cur=$(sysctl -n "net.ipv4.neigh.default.gc_thresh$k")
        [ "$want" -gt "$cur" ] && sysctl -qw "net.ipv4.neigh.default.gc_thresh$k=$want"
    done
    tn_log "neighbour table limits raised for $n hosts (were: $TN_NEIGH_SAVED)"
}

tn_restore_neigh_limits() {
    [ -n "$TN_NEIGH_SAVED" ] || return 0
    local t1 t2 t3
    read -r t1 t2 t3 <<<"$TN_NEIGH_SAVED"
    sysctl -qw net.ipv4.neigh.default.gc_thresh1="$t1" net.ipv4.neigh.default.gc_thresh2="$t2" \
        net.ipv4.neigh.default.gc_thresh3="$t3"
    TN_NEIGH_SAVED=""
}

# The switch and the hosts as plain machines have them: this machine has br_netfilter loaded
# (its per-namespace switches start on), which passes every frame a bridge forwards through the
# iptables hooks, at about 4 % of a bridged path's throughput (docs/performance.md).
tn_no_bridge_netfilter() {
    ip netns exec "$1" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
        net.bridge.bridge-nf-call-arptables=0 >/dev/null 2>&1 || true
}

tn_add_host() {
    local i=$1 ns
    ns=$(tn_ns "$i")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "${TN_PREFIX}ul" link add "h$i" type veth peer name eth0 netns "$ns"
    ip -n "${TN_PREFIX}ul" link set "h$i" master br0 up
    ip -n "$ns" addr add "$(tn_ip "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    # GRO on the underlay "NIC", as physical NICs have it by default (veths start without).
    ip netns exec "$ns" ethtool -K eth0 gro on >/dev/null 2>&1 || true
    tn_no_bridge_netfilter "$ns"
    mkdir -p "$(tn_state "$i")"
    [ "$i" -gt "$TN_HOSTS" ] && TN_HOSTS=$i
    return 0
}

tn_exec() {
    local i=$1; shift
    WEFT_STATE_DIR="$(tn_state "$i")" PATH="$TN_BIN:$PATH" ip netns exec "$(tn_ns "$i")" "$@"
}

tn_weft() {
    local i=$1; shift
    tn_exec "$i" "$TN_BIN/weft" "$@"
}

# Launch a router on host I with nickname hI; extra args follow.
tn_launch() {
    local i=$1; shift
    tn_weft "$i" launch --nickname "h$i" "$@"
}

tn_cut() {
    local a=$1 b=$2
    tn_cut_one "$a" "$b"; tn_cut_one "$b" "$a"
}

tn_cut_one() {
    local i=$1 j=$2 t="tn_cut_$2"
    tn_exec "$i" nft -f - <<NFT
table inet $t {
    chain in { type filter hook input priority 0; ip saddr $(tn_ip "$j") drop; }
    chain out { type filter hook output priority 0; ip daddr $(tn_ip "$j") drop; }
}
NFT
    # Existing connections must notice: drop established TCP too (the rules above do).
}

tn_restore() {
    local a=$1 b=$2
    tn_exec "$a" nft delete table inet "tn_cut_$b" 2>/dev/null || true
    tn_exec "$b" nft delete table inet "tn_cut_$a" 2>/dev/null || true
}

tn_container() {
    local i=$1 name=$2 ns="${TN_PREFIX}c-$2"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # TN_NO_IPV6=1: no IPv6 chatter (router solicitations, MLD) when a test counts frames.
    [ -n "${TN_NO_IPV6:-}" ] && ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    TN_CONTAINERS+=("$ns")
    echo "$ns"
}

# Stop host I's router by its pid file (only processes this run started).
tn_kill() {
    local i=$1 sig=${2:-TERM} pidfile pid
    pidfile="$(tn_state "$i")/weftd.pid"
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [ "$sig" = KILL ] && rm -f "$pidfile"
    return 0
}

# Stop every router this run started, all at once (by their pid files): TERM, up to 10 s for
# all of them to exit, then KILL for any still running (a mesh of 50 stops in seconds, not
# one router after the other).
tn_stop_routers() {
    local i pids=() pid
    for i in $(seq 1 "$TN_HOSTS"); do
        # The router, and the Docker plugin weft launch --docker-plugin started beside it.
        for pid in "$(tn_state "$i")/weftd.pid" "$(tn_state "$i")/docker-plugin.pid"; do
            pid=$(cat "$pid" 2>/dev/null) || continue
            kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
        done
    done
    for _ in $(seq 1 100); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    return 0
}

tn_teardown() {
    local i ns
    trap - EXIT INT TERM
    # Containers of runtimes first (testnet/runtimes.sh), while their plugin's router runs.
    declare -F tn_runtimes_teardown >/dev/null && tn_runtimes_teardown
    tn_stop_routers
    for ns in "${TN_CONTAINERS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    # resolv.conf files attach wrote for containers whose router did not detach them.
    for ns in /etc/netns/"${TN_PREFIX}"*; do
        [ -d "$ns" ] || continue
        grep -q '^# written by weft attach' "$ns/resolv.conf" 2>/dev/null && rm -f "$ns/resolv.conf"
        rmdir "$ns" 2>/dev/null || true
    done
    for ns in $(ip netns list | awk '{print $1}' | grep "^${TN_PREFIX}" || true); do
        ip netns del "$ns" 2>/dev/null || true
    done
    tn_restore_neigh_limits
    if [ -n "${TN_KEEP_LOGS:-}" ]; then tn_log "logs kept in $TN_RUN"; else rm -rf "$TN_RUN"; fi
    rmdir "$TN_ROOT/testnet/.run" 2>/dev/null || true
}

# Wait until CMD succeeds, up to SECONDS (default 20); returns 1 on timeout.
tn_wait() {
    local timeout=$1; shift
    local end=$((SECONDS + timeout))
    while [ $SECONDS -lt $end ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# Number of peers host I knows (from its JSON report).
tn_peer_count() {
    tn_weft "$1" report | jq '.peers | length'
}

# Number of established connections of host I.
tn_established() {
    tn_weft "$1" report | jq '[.connections[] | select(.state == "established")] | length'
}

# True when every host 1..N knows N peers and has N-1 established connections.
tn_full_mesh() {
    local n=$1 i
    for i in $(seq 1 "$n"); do
        [ "$(tn_peer_count "$i" 2>/dev/null)" = "$n" ] || return 1
        [ "$(tn_established "$i" 2>/dev/null)" = "$((n - 1))" ] || return 1
    done
}

# Assert that CMD succeeds; on failure print what was expected and end the scenario.
tn_check() {
    local what=$1; shift
    if "$@"; then tn_log "ok: $what"; else echo "FAIL: $what" >&2; tn_dump; exit 1; fi
}

# Assert that CMD succeeds within SECONDS.
tn_check_within() {
    local timeout=$1 what=$2; shift 2
    if tn_wait "$timeout" "$@"; then tn_log "ok: $what"; else echo "FAIL: $what (waited ${timeout}s)" >&2; tn_dump; exit 1; fi
}

# On failure: each host's status and last log lines.
tn_dump() {
    local i
    for i in $(seq 1 "$TN_HOSTS"); do
        echo "--- h$i status" >&2
        tn_weft "$i" status >&2 2>&1 || true
        tn_weft "$i" status connections >&2 2>&1 || true
        echo "--- h$i log (tail)" >&2
        tail -n 15 "$(tn_state "$i")/weftd.log" >&2 2>/dev/null || true
    done
}

# Peer name of host I.
tn_name() { tn_weft "$1" report | jq -r '.router.name'; }

# Next hop of host I towards peer name NAME ("null" if unreachable).
tn_next_hop() { tn_weft "$1" report | jq -r --arg n "$2" '.routes.unicast[$n]'; }

# True when host I lists a peer with nickname NICK.
tn_knows() { tn_weft "$1" report | jq -e --arg n "$2" '[.peers[] | select(.nickname == $n)] | length == 1' >/dev/null; }

# Send raw bytes (printf format) to TCP IP:PORT from host I, keeping the socket open HOLD s.
tn_send_raw() {
    local i=$1 ip=$2 port=$3 fmt=$4 hold=${5:-0}
    tn_exec "$i" bash -c "exec 3<>/dev/tcp/$ip/$port && printf '$fmt' >&3 && sleep $hold; exec 3>&-" 2>/dev/null || true
}

# GET PATH from host I's local API.
tn_http() { tn_exec "$1" curl -sf "http://127.0.0.1:6784$2"; }

# The median of the numbers on stdin, one per line.
tn_median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# True when host I's /metrics says N peers and N-1 established connections (cheaper than the
# JSON report, for meshes of many).
tn_host_full() {
    local m
    m=$(tn_http "$1" /metrics) || return 1
    grep -Eq "^weft_peers $2(\.0)?\$" <<<"$m" &&
        grep -Eq "^weft_connections\{state=\"established\"\} $(($2 - 1))(\.0)?\$" <<<"$m"
}

# True when hosts 1..N are all full (tn_host_full).
tn_metrics_full_mesh() {
    local n=$1 i
    for i in $(seq 1 "$n"); do tn_host_full "$i" "$n" || return 1; done
}

# CPU ticks (user + system, all threads) of host I's router so far (0 if it is not running).
tn_cpu_ticks() {
    local pid
    pid=$(cat "$(tn_state "$1")/weftd.pid" 2>/dev/null) || { echo 0; return; }
    awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0
}

# Gossip bytes host I's router has received, every channel.
tn_gossip_received() {
    tn_http "$1" /metrics | awk '/^weft_gossip_bytes_total.*direction="received"/ {s += $2} END {printf "%d\n", s}'
}

# Launch routers on hosts 1..N (2..N told only h1; ARGS go to every launch) and wait for a
# full mesh.
tn_launch_mesh() {
    local n=$1 i; shift
    tn_launch 1 "$@" >/dev/null
    for i in $(seq 2 "$n"); do tn_launch "$i" "$@" "$(tn_ip 1)" >/dev/null; done
    tn_check_within 20 "full mesh of $n" tn_full_mesh "$n"
}

# IPAM through the HTTP API of host I: allocate for ID (optionally in subnet NET/LEN) and print
# the CIDR; fails when the router refuses.
tn_alloc() { tn_exec "$1" curl -sf -X POST "http://127.0.0.1:6784/ip/$2${3:+/$3}"; }

# True when host I's IPAM ring is divided.
tn_ipam_ready() { tn_weft "$1" report | jq -e '.ipam.ready' >/dev/null; }

# The ring as host I sees it: one "name owned" line per owner, sorted.
tn_ring() { tn_weft "$1" report | jq -r '.ipam.peers[] | "\(.name) \(.owned)"' | sort; }

# True when hosts 1..N see the same ring.
tn_same_ring() {
    local n=$1 i first
    first=$(tn_ring 1)
    for i in $(seq 2 "$n"); do [ "$(tn_ring "$i")" = "$first" ] || return 1; done
}

# A container NAME on host I, attached with weft attach (ARGS before the namespace); prints
# its address without the prefix.
tn_attach() {
    local i=$1 name=$2 ns cidr; shift 2
    ns=$(tn_container "$i" "$name")
    cidr=$(tn_weft "$i" attach "$@" "$ns") || return 1
    echo "${cidr%%/*}"
}

# Run CMD in container NAME.
tn_cexec() { local name=$1; shift; ip netns exec "${TN_PREFIX}c-$name" "$@"; }

# True when container A pings address ADDR (COUNT pings, default 2).
tn_ping() { tn_cexec "$1" ping -c "${3:-2}" -i 0.2 -W 2 "$2" >/dev/null 2>&1; }

# The value of a sleeve counter on host I: NAME and a label filter like 'reason="replayed"'.
tn_counter() { tn_http "$1" /metrics | grep "^$2{$3}" | awk '{print $2}'; }

# Starts a capture, CMD... (tcpdump writing to a file), in the background and returns once it
# listens (a fixed second was too short on a loaded machine); its pid is TN_CAPTURE_PID.
tn_capture_start() {
    local err="$TN_RUN/capture-$RANDOM.err"
    "$@" >/dev/null 2>"$err" &
    TN_CAPTURE_PID=$!
    tn_wait 8 grep -q "listening on" "$err"
}

# A capture of host I's underlay UDP 6783 while container C pings ADDR five times with a
# recognisable payload; prints the capture file.
TN_PATTERN=5745465453454352  # "WEFTSECR"
tn_capture_ping() {
    local i=$1 c=$2 addr=$3 file pid
    file="$TN_RUN/capture-$c-$RANDOM.pcap"
    tn_capture_start tn_exec "$i" timeout 10 tcpdump -i any -U -w "$file" udp port 6783
    pid=$TN_CAPTURE_PID
    tn_cexec "$c" ping -c 5 -i 0.2 -s 200 -p $TN_PATTERN "$addr" >/dev/null 2>&1
    sleep 0.5
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    echo "$file"
}

# Capture UDP 6783 and 6784 on host I's underlay while container C pings ADDR with the pattern;
# prints the file; FILE.6783 and FILE.6784 hold each port's part.
tn_capture_ports() {
    local i=$1 c=$2 addr=$3 file pid
    file="$TN_RUN/ports-$c-$RANDOM.pcap"
    tn_capture_start tn_exec "$i" timeout 10 tcpdump -i eth0 -U -w "$file" 'udp port 6783 or udp port 6784'
    pid=$TN_CAPTURE_PID
    tn_cexec "$c" ping -c 5 -i 0.2 -s 200 -p "$TN_PATTERN" "$addr" >/dev/null 2>&1
    sleep 0.5
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    tcpdump -r "$file" -w "$file.6784" 'udp port 6784' 2>/dev/null
    tcpdump -r "$file" -w "$file.6783" 'udp port 6783' 2>/dev/null
    echo "$file"
}

# A benchmark's first lines: what ran, with which arguments, on what (kernel, cores, build),
# and the kernel's bridge netfilter state (br_netfilter loaded or not on this machine; the
# testnet turns its hooks off in its own namespaces, as a plain machine has them).
tn_bench_header() {
    local brnf=no
    [ -d /sys/module/br_netfilter ] && brnf="loaded (off in the testnet's namespaces)"
    echo "# $(basename "$1") ${*:2}"
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) cores; br_netfilter: $brnf; build: release; commit $(git -C "$TN_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# Runs CMD... while capturing ICMP inside container C; true when the capture holds the byte
# pattern HEX (for the injection scenarios: did a forged frame reach the container?).
tn_container_sees() {
    local c=$1 hex=$2 file pid; shift 2
    file="$TN_RUN/sees-$c-$RANDOM.pcap"
    tn_capture_start tn_cexec "$c" timeout 8 tcpdump -i ethwe -U -w "$file" icmp
    pid=$TN_CAPTURE_PID
    "$@"
    sleep 0.5
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    tcpdump -r "$file" -x 2>/dev/null | grep -E '^\s+0x' | sed -E 's/^\s+0x[0-9a-f]+:\s+//' | tr -d ' \n' | grep -qi "$hex"
}

# True when the capture FILE holds the ping payload (the hex of every byte, offsets stripped).
tn_capture_shows() {
    tcpdump -r "$1" -x 2>/dev/null | grep -E '^\s+0x' | sed -E 's/^\s+0x[0-9a-f]+:\s+//' | tr -d ' \n' | grep -qi "$TN_PATTERN"
}

# True when the capture FILE is not empty and shows no byte pattern of the payload.
tn_capture_hides() { [ -s "$1" ] && ! tn_capture_shows "$1"; }

# Ask the DNS from container NAME (through its resolv.conf): dig +short with ARGS.
tn_dig() { local name=$1; shift; tn_cexec "$name" dig +short +time=2 +tries=1 "$@"; }
