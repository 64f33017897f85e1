#!/usr/bin/env bash
# Benchmark of the embedded DNS (release build) against dnsmasq serving the same names, side by
# side in one run: one host namespace with a router (NAMES names added with dns-add) and
# dnsmasq (the same names from a hosts file, no forwarding), dnsperf asking each in turn for
# SECONDS seconds, RUNS times. Prints queries per second and latency percentiles (from
# dnsperf -v), medians over the runs, and Weft's rate as a ratio to dnsmasq's.
#   testnet/bench/dns.sh [RUNS] [SECONDS] [NAMES]      (defaults: 3 runs, 5 s, 100 names)
set -u
cd "$(dirname "$0")/../.."
runs=${1:-3}; seconds=${2:-5}; names=${3:-100}
for p in dnsperf dnsmasq-base; do
    dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done
swift build -c release --product weftd >/dev/null && swift build -c release --product weft >/dev/null
export TN_BIN=$PWD/.build/release
TN_ID="bdns$$"
source testnet/lib.sh
tn_bench_header "$0" "runs=$runs seconds=$seconds names=$names"
tn_setup 1 >/dev/null
trap '[ -f "$TN_RUN/dnsmasq.pid" ] && kill "$(cat "$TN_RUN/dnsmasq.pid")" 2>/dev/null; tn_teardown' EXIT

tn_launch 1 --ipalloc-range "" >/dev/null 2>&1
: > "$TN_RUN/hosts"; : > "$TN_RUN/queries"
for i in $(seq 1 "$names"); do
    a="10.40.$((i / 250)).$((i % 250 + 1))"
    tn_weft 1 dns-add "$a" -h "name$i" >/dev/null
    echo "$a name$i.weft.local" >> "$TN_RUN/hosts"
    echo "name$i.weft.local A" >> "$TN_RUN/queries"
done
tn_exec 1 dnsmasq --no-resolv --no-hosts --addn-hosts="$TN_RUN/hosts" --local=/weft.local/ --listen-address="$(tn_ip 1)" \
    --bind-interfaces --pid-file="$TN_RUN/dnsmasq.pid" --cache-size=10000
sleep 0.5


# One dnsperf run against SERVER: prints "qps p50 p99 p999 lost" (latencies in microseconds).
perf() {
    local out="$TN_RUN/dnsperf.out"
    tn_exec 1 dnsperf -s "$1" -d "$TN_RUN/queries" -l "$seconds" -c 4 -q 100 -v > "$out" 2>/dev/null
    local qps lost
    qps=$(awk '/Queries per second:/ {print $4}' "$out")
    lost=$(awk '/Queries lost:/ {print $3}' "$out")
    awk '/^> NOERROR/ {printf "%.0f\n", $NF * 1e6}' "$out" | sort -n | awk -v qps="$qps" -v lost="$lost" '
        { lat[NR] = $1 }
        END { printf "%.0f %s %s %s %s\n", qps, lat[int(NR * 0.50) + 1], lat[int(NR * 0.99) + 1], lat[int(NR * 0.999) + 1], lost }'
}

declare -A results
for r in $(seq 1 "$runs"); do
    for server in weft dnsmasq; do
        addr=169.254.53.53; [ $server = dnsmasq ] && addr=$(tn_ip 1)
        results[$server]+="$(perf "$addr")"$'\n'
    done
done

echo "DNS benchmark: $names names, dnsperf -c 4 -q 100, $seconds s per run, median of $runs runs ($(date -u +%Y-%m-%d))"
printf '%-8s %10s %9s %9s %9s %8s\n' server "queries/s" "p50 µs" "p99 µs" "p99.9 µs" lost
for server in weft dnsmasq; do
    col() { printf '%s' "${results[$server]}" | awk -v c="$1" 'NF {print $c}' | tn_median; }
    printf '%-8s %10s %9s %9s %9s %8s\n' $server "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)"
done
weft=$(printf '%s' "${results[weft]}" | awk 'NF {print $1}' | tn_median)
dnsmasq=$(printf '%s' "${results[dnsmasq]}" | awk 'NF {print $1}' | tn_median)
echo "weft / dnsmasq: $(echo "scale=2; $weft / $dnsmasq" | bc)"
