#!/usr/bin/env bash
# Benchmark: time from launching N routers at once (each told only h1) until every one reports
# a full mesh (N peers, N-1 established connections). Median of RUNS runs per N.
#   testnet/bench/mesh-formation.sh [RUNS] [N...]     (defaults: 3 runs; N = 5 10 20)
set -u
cd "$(dirname "$0")/../.."
runs=${1:-3}; shift || true
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(5 10 20)
swift build -c release --product weftd >/dev/null && swift build -c release --product weft >/dev/null
export TN_BIN=$PWD/.build/release

full() {  # every host 1..N: N peers, N-1 established connections
    local n=$1 i m
    for i in $(seq 1 "$n"); do
        m=$(tn_exec "$i" curl -sf http://127.0.0.1:6784/metrics) || return 1
        grep -Eq "^weft_peers $n(\.0)?\$" <<<"$m" || return 1
        grep -Eq "^weft_connections\{state=\"established\"\} $((n - 1))(\.0)?\$" <<<"$m" || return 1
    done
}

run_once() {  # prints seconds (3 decimals) for one run with N hosts
    local n=$1
    (
        TN_ID="bench$$$n$RANDOM"
        source testnet/lib.sh
        tn_setup "$n" >/dev/null
        start=$(date +%s.%N)
        tn_launch 1 >/dev/null 2>&1
        for i in $(seq 2 "$n"); do tn_launch "$i" "$(tn_ip 1)" >/dev/null 2>&1 & done
        wait
        deadline=$((SECONDS + 60))
        until full "$n"; do
            [ $SECONDS -lt $deadline ] || { echo "no full mesh after 60 s" >&2; echo 999; exit 0; }
            sleep 0.05
        done
        end=$(date +%s.%N)
        echo "$end - $start" | bc -l | xargs printf '%.3f\n'
    )
}

(source testnet/lib.sh; tn_bench_header "$0" "runs=$runs routers=${sizes[*]}")
echo "| routers | runs (s) | median (s) |"
echo "|---|---|---|"
for n in "${sizes[@]}"; do
    times=()
    for _ in $(seq 1 "$runs"); do times+=("$(run_once "$n")"); done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "| $n | ${times[*]} | $median |"
done
