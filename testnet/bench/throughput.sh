#!/usr/bin/env bash
# Benchmark: TCP throughput (iperf3, one stream, DURATION s) between two hosts of the testnet,
# for the raw underlay, a hand-made kernel VXLAN link (host to host, and container to container
# through a bridge as Weft lays it out: "vxlan-bridge"), Weft's fast path (kernel VXLAN
# programmed by the router) and sleeve (between attached containers; the sleeve with
# --no-fastdp) without and with a password, at the default MTU (1376) and at --mtu 61440 (a
# jumbo overlay carried in fragments), and the userspace overlays of Debian's packages: fastd,
# nebula, wireguard-go and tinc. Every configuration runs once per round, side by side,
# RUNS rounds; the table gives each median in Gbit/s and its ratios (medians of the rounds'
# ratios; each round's ratio to the raw underlay and their spread too) to the raw underlay and to
# both hand-made VXLANs, with the CPU the overlay's daemons used (cores, summed over both hosts),
# the throughput per core of it (Mbit/s), their resident memory, and the request/response
# latency (ICMP echo round trips, p50 and p99, medians over the rounds) after each transfer.
#   testnet/bench/throughput.sh [RUNS] [DURATION] [CONFIG...]
#   (defaults: 3 runs of 5 s; configs: raw vxlan vxlan-bridge fastdp sleeve sleeve-password sleeve-jumbo
#    sleeve-jumbo-password fastd nebula wireguard-go tinc)
set -u
cd "$(dirname "$0")/../.."
runs=${1:-3}; duration=${2:-5}; shift 2 2>/dev/null || shift $#
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(raw vxlan vxlan-bridge fastdp sleeve sleeve-password sleeve-jumbo sleeve-jumbo-password fastd nebula wireguard-go tinc)
testnet/install-deps.sh
missing=()
for p in fastd nebula wireguard-go wireguard-tools tinc; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product weftd >/dev/null && swift build -c release --product weft >/dev/null || exit 1
export TN_BIN=$PWD/.build/release
source testnet/lib.sh
tn_bench_header "$0" "runs=$runs duration=${duration}s configs=${configs[*]}"
tn_setup 2 >/dev/null
work="$TN_RUN/bench"
mkdir -p "$work"
PIDS=()  # daemons of the configuration being measured
# Daemons are found by their unique command lines (a background `ip netns exec` is a subshell).
pid_of() { local p; for _ in $(seq 1 50); do p=$(pgrep -n -f -- "$1") && { echo "$p"; return; }; sleep 0.1; done; }
cleanup() { pkill -f -- "$work/" 2>/dev/null; pkill -f -- "wireguard-go -f wgbench" 2>/dev/null; tn_teardown; }
trap cleanup EXIT

# CPU ticks (user + system) of a process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Request/response latency from host/container A to address B: 400 ICMP echoes 5 ms apart
# (each overlay carries them as it carries any packet); prints "p50_us p99_us".
latency() {
    local client=$1 address=$2
    $client ping -n -c 400 -i 0.005 -W 1 "$address" 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
        awk '{a[NR] = $1} END { if (NR == 0) { print "0 0"; exit }
             i = int(NR * 0.50 + 0.5); if (i < 1) i = 1; j = int(NR * 0.99 + 0.5); if (j < 1) j = 1
             printf "%.0f %.0f\n", a[i] * 1000, a[j] * 1000 }'
}

# Runs iperf3 from host/container A to address B: prints "Gbit/s cores rss_MiB p50_us p99_us".
measure() {
    local client=$1 server=$2 address=$3 before=0 after=0 rss=0 p out gbps
    $server iperf3 -s -D -1 >/dev/null 2>&1
    sleep 0.3
    for p in "${PIDS[@]}"; do before=$((before + $(ticks "$p"))); done
    out=$($client iperf3 -c "$address" -t "$duration" -J 2>/dev/null)
    for p in "${PIDS[@]}"; do after=$((after + $(ticks "$p"))); rss=$((rss + $(rss_kb "$p"))); done
    gbps=$(jq '.end.sum_received.bits_per_second / 1e9' <<<"$out" 2>/dev/null || echo 0)
    [ -n "$gbps" ] && [ "$gbps" != null ] || gbps=0
    local hz; hz=$(getconf CLK_TCK)
    printf '%.3f %.2f %.1f %s\n' "$gbps" "$(echo "($after - $before) / $hz / $duration" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
        "$(latency "$client" "$address")"
}

h1() { tn_exec 1 "$@"; }
h2() { tn_exec 2 "$@"; }
stop_daemons() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
    PIDS=()
}

run_raw() { measure h1 h2 "$(tn_ip 2)"; }

run_vxlan() {
    local i
    for i in 1 2; do
        tn_exec $i ip link add vx0 type vxlan id 42 remote "$(tn_ip $((3 - i)))" dstport 4789 dev eth0
        tn_exec $i ip addr add "10.210.0.$i/24" dev vx0
        tn_exec $i ip link set vx0 up
    done
    measure h1 h2 10.210.0.2
    for i in 1 2; do tn_exec $i ip link del vx0; done
}

# The same VXLAN by hand, but as Weft's fast path lays it out: on each host a bridge with the
# VXLAN device and a container's veth (MTU 1376) on it, container to container.
run_vxlan_bridge() {
    local i c
    for i in 1 2; do
        c="${TN_PREFIX}c-hand$i"
        ip netns add "$c"; ip -n "$c" link set lo up
        TN_CONTAINERS+=("$c")
        tn_exec $i ip link add vx0 type vxlan id 42 remote "$(tn_ip $((3 - i)))" dstport 4789 dev eth0
        tn_exec $i ip link add brx type bridge
        tn_exec $i ip link set vx0 master brx up
        tn_exec $i ip link set brx up
        tn_exec $i ip link add vhand type veth peer name eth1 netns "$c"
        tn_exec $i ip link set vhand master brx up
        ip -n "$c" addr add "10.212.0.$i/24" dev eth1
        ip -n "$c" link set eth1 mtu 1376 up
    done
    tn_wait 10 tn_ping hand1 10.212.0.2 1 >/dev/null
    measure "tn_cexec hand1" "tn_cexec hand2" 10.212.0.2
    for i in 1 2; do
        tn_exec $i ip link del vx0; tn_exec $i ip link del brx; tn_exec $i ip link del vhand 2>/dev/null
        ip netns del "${TN_PREFIX}c-hand$i"
    done
}

run_sleeve() {  # $1: extra launch flags
    local i c
    for i in 1 2; do
        tn_launch $i --ipalloc-range "" "$@" $([ $i = 2 ] && tn_ip 1) >/dev/null 2>&1
        PIDS+=("$(cat "$(tn_state $i)/weftd.pid")")
    done
    for i in 1 2; do
        c="${TN_PREFIX}c-bench$i"
        ip netns add "$c" 2>/dev/null; ip -n "$c" link set lo up
        TN_CONTAINERS+=("$c")
        tn_weft $i attach --ip "10.211.0.$i/24" "$c" >/dev/null
    done
    tn_wait 15 tn_ping bench1 10.211.0.2 1 >/dev/null
    if [[ " $* " != *" --no-fastdp "* && " $* " != *" --password "* ]]; then
        # Both ends: until h2 has switched too, its frames (the ACKs) still go by the sleeve.
        fastdp() { local i; for i in 1 2; do tn_weft $i report | jq -e '[.connections[] | select(.datapath == "fastdp")] | length == 1' || return 1; done; }
        tn_wait 15 fastdp >/dev/null || echo "fastdp did not come up" >&2
    fi
    measure "tn_cexec bench1" "tn_cexec bench2" 10.211.0.2
    for i in 1 2; do tn_weft $i reset >/dev/null 2>&1; done
    PIDS=()
    for i in 1 2; do ip netns del "${TN_PREFIX}c-bench$i"; done
}

run_fastd() {
    local i d
    for i in 1 2; do
        d="$work/fastd$i"; mkdir -p "$d/peers"
        fastd --generate-key --machine-readable >"$d/secret" 2>/dev/null
        printf 'secret "%s";\n' "$(cat "$d/secret")" >"$d/secret.conf"
        fastd --machine-readable --show-key --config "$d/secret.conf" >"$d/public" 2>/dev/null
    done
    for i in 1 2; do
        d="$work/fastd$i"
        local other=$((3 - i))
        printf 'key "%s";\nremote "%s" port 10000;\n' "$(cat "$work/fastd$other/public")" "$(tn_ip $other)" >"$d/peers/h$other"
        cat >"$d/fastd.conf" <<EOF
interface "fastd0";
mode tun;
bind $(tn_ip $i):10000;
method "salsa2012+umac";
secret "$(cat "$d/secret")";
mtu 1426;
include peers from "peers";
on up "ip addr add 10.212.0.$i/24 dev \$INTERFACE; ip link set \$INTERFACE up";
EOF
        tn_exec $i fastd --config "$d/fastd.conf" --daemon --pid-file "$d/pid" --log-level error 2>"$d/err"
        for _ in $(seq 1 50); do [ -s "$d/pid" ] && break; sleep 0.1; done
        PIDS+=("$(cat "$d/pid")")
    done
    tn_wait 15 tn_exec 1 ping -c 1 -W 1 10.212.0.2 >/dev/null
    measure h1 h2 10.212.0.2
    stop_daemons
}

run_nebula() {
    local i d
    d="$work/nebula"; mkdir -p "$d"
    (cd "$d" && nebula-cert ca -name bench -out-crt ca.crt -out-key ca.key >/dev/null &&
        for i in 1 2; do nebula-cert sign -ca-crt ca.crt -ca-key ca.key -name "h$i" -ip "10.213.0.$i/24" \
            -out-crt "h$i.crt" -out-key "h$i.key" >/dev/null; done)
    for i in 1 2; do
        local other=$((3 - i))
        cat >"$d/h$i.yml" <<EOF
pki: {ca: $d/ca.crt, cert: $d/h$i.crt, key: $d/h$i.key}
static_host_map: {"10.213.0.$other": ["$(tn_ip $other):4242"]}
lighthouse: {am_lighthouse: false}
listen: {host: $(tn_ip $i), port: 4242}
punchy: {punch: false}
tun: {dev: nebula1, mtu: 1300}
logging: {level: error}
firewall:
  outbound: [{port: any, proto: any, host: any}]
  inbound: [{port: any, proto: any, host: any}]
EOF
        tn_exec $i nebula -config "$d/h$i.yml" >/dev/null 2>&1 &
        PIDS+=("$(pid_of "nebula -config $d/h$i.yml")")
    done
    tn_wait 15 tn_exec 1 ping -c 1 -W 1 10.213.0.2 >/dev/null
    measure h1 h2 10.213.0.2
    stop_daemons
}

run_wireguard() {
    local i d
    for i in 1 2; do d="$work/wg$i"; mkdir -p "$d"; (umask 077; wg genkey >"$d/key"); wg pubkey <"$d/key" >"$d/pub"; done
    for i in 1 2; do
        local other=$((3 - i))
        # Each its own interface name: the control socket /var/run/wireguard/NAME.sock is shared.
        tn_exec $i wireguard-go -f "wgbench$i" >/dev/null 2>&1 &
        PIDS+=("$(pid_of "wireguard-go -f wgbench$i")")
        tn_wait 5 tn_exec $i ip link show "wgbench$i" >/dev/null
        tn_exec $i wg set "wgbench$i" listen-port 51820 private-key "$work/wg$i/key" \
            peer "$(cat "$work/wg$other/pub")" allowed-ips "10.214.0.$other/32" endpoint "$(tn_ip $other):51820"
        tn_exec $i ip addr add "10.214.0.$i/24" dev "wgbench$i"
        tn_exec $i ip link set "wgbench$i" up
    done
    tn_wait 15 tn_exec 1 ping -c 1 -W 1 10.214.0.2 >/dev/null
    measure h1 h2 10.214.0.2
    stop_daemons
}

run_tinc() {
    local i d
    for i in 1 2; do
        d="$work/tinc$i"; mkdir -p "$d/hosts"
        printf 'Name = h%s\nInterface = tinc0\nAddressFamily = ipv4\nBindToAddress = %s\n%s' "$i" "$(tn_ip $i)" \
            "$([ $i = 1 ] && echo 'ConnectTo = h2')" >"$d/tinc.conf"
        printf 'Address = %s\nSubnet = 10.215.0.%s/32\n' "$(tn_ip $i)" "$i" >"$d/hosts/h$i"
        printf '#!/bin/sh\nip addr add 10.215.0.%s/24 dev $INTERFACE\nip link set $INTERFACE up\n' "$i" >"$d/tinc-up"
        chmod +x "$d/tinc-up"
        tincd -c "$d" -K2048 </dev/null >/dev/null 2>&1
    done
    cp "$work/tinc1/hosts/h1" "$work/tinc2/hosts/"; cp "$work/tinc2/hosts/h2" "$work/tinc1/hosts/"
    for i in 1 2; do
        tn_exec $i tincd -c "$work/tinc$i" -D --pidfile="$work/tinc$i/pid" >/dev/null 2>&1 &
        PIDS+=("$(pid_of "tincd -c $work/tinc$i ")")
    done
    tn_wait 20 tn_exec 1 ping -c 1 -W 1 10.215.0.2 >/dev/null
    measure h1 h2 10.215.0.2
    stop_daemons
    rm -rf "$work"/tinc*
}

declare -A results
for r in $(seq 1 "$runs"); do
    for c in "${configs[@]}"; do
        case $c in
            raw) line=$(run_raw) ;;
            vxlan) line=$(run_vxlan) ;;
            vxlan-bridge) line=$(run_vxlan_bridge) ;;
            fastdp) line=$(run_sleeve) ;;
            sleeve) line=$(run_sleeve --no-fastdp) ;;
            sleeve-password) line=$(run_sleeve --password bench-secret) ;;
            sleeve-jumbo) line=$(run_sleeve --no-fastdp --mtu 61440) ;;
            sleeve-jumbo-password) line=$(run_sleeve --mtu 61440 --password bench-secret) ;;
            fastd) line=$(run_fastd) ;;
            nebula) line=$(run_nebula) ;;
            wireguard-go) line=$(run_wireguard) ;;
            tinc) line=$(run_tinc) ;;
            *) echo "unknown config $c" >&2; exit 1 ;;
        esac
        results[$c]+="$line"$'\n'
        echo "round $r: $c $line" >&2
    done
done

col() { printf '%s' "${results[$1]}" | awk -v k="$2" 'NF {print $k}' | tn_median; }
# The median of each round's ratio of $1 to $2 (each round's pair ran minutes apart at most, so
# the machine's drift between rounds cancels out).
ratio() {
    [ -n "${results[$2]:-}" ] || { echo "-"; return; }
    paste <(printf '%s' "${results[$1]}" | awk 'NF {print $1}') <(printf '%s' "${results[$2]}" | awk 'NF {print $1}') |
        awk '$2 > 0 {print $1 / $2}' | tn_median | xargs printf '%.3f'
}
# Each round's ratio of $1 to the raw veth, and their spread: "r1 r2 r3 (min–max)".
rounds() {
    [ -n "${results[raw]:-}" ] || { echo "-"; return; }
    paste <(printf '%s' "${results[$1]}" | awk 'NF {print $1}') <(printf '%s' "${results[raw]}" | awk 'NF {print $1}') |
        awk '$2 > 0 { r = $1 / $2; s = s sprintf("%.3f ", r); if (n == 0 || r < lo) lo = r; if (n == 0 || r > hi) hi = r; n++ }
             END { printf "%s(%.3f–%.3f)", s, lo, hi }'
}
echo "| path | runs (Gbit/s) | median (Gbit/s) | ratio to raw veth | per round (spread) | to hand-made VXLAN, host to host | to hand-made VXLAN, container to container | daemon CPU (cores) | Mbit/s per daemon core | daemon RSS (MiB) | RTT p50 / p99 (µs) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for c in "${configs[@]}"; do
    all=$(printf '%s' "${results[$c]}" | awk 'NF {printf "%s ", $1}')
    cpu=$(col "$c" 2); rss=$(col "$c" 3)
    per_core=$(awk -v g="$(col "$c" 1)" -v c="$cpu" 'BEGIN { if (c > 0.005) printf "%.0f", g * 1000 / c; else print "kernel" }')
    case $c in raw|vxlan|vxlan-bridge) cpu="-"; rss="-"; per_core="-";; esac
    echo "| $c | ${all% } | $(col "$c" 1) | $(ratio "$c" raw) | $(rounds "$c") | $(ratio "$c" vxlan) | $(ratio "$c" vxlan-bridge) | $cpu | $per_core | $rss | $(col "$c" 4) / $(col "$c" 5) |"
done
