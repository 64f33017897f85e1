#!/usr/bin/env bash
# Benchmark of IPAM with real routers (release build):
#  1. allocations per second through the HTTP API on one host: COUNT allocations by one
#     client in sequence (curl's URL ranges: one process, a new connection per request) and
#     by 8 clients at once; every allocation is on disk (fsync) before it is answered;
#  2. time to agreement: N routers launched at once with --ipalloc-init consensus=N, each
#     told only h1, from the first launch until every router reports a divided ring.
# Median of RUNS runs each.
#   testnet/bench/ipam.sh [RUNS] [COUNT] [N...]     (defaults: 3 runs, 1000 allocations, N = 5 20)
set -u
cd "$(dirname "$0")/../.."
runs=${1:-3}; count=${2:-1000}; shift 2 || shift $#
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(5 20)
swift build -c release --product weftd >/dev/null && swift build -c release --product weft >/dev/null
export TN_BIN=$PWD/.build/release

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
elapsed() { echo "$(date +%s.%N) - $1" | bc -l; }

alloc_rate() {  # prints "sequential parallel" allocations per second for one run
    (
        TN_ID="bipam$$$RANDOM"
        source testnet/lib.sh
        tn_setup 1 >/dev/null
        tn_launch 1 >/dev/null 2>&1
        tn_weft 1 prime >/dev/null
        start=$(date +%s.%N)
        tn_exec 1 curl -sf -X POST "http://127.0.0.1:6784/ip/seq[1-$count]" -o /dev/null || echo "sequential failed" >&2
        seq_rate=$(echo "$count / ($(elapsed "$start"))" | bc -l)
        start=$(date +%s.%N)
        tn_exec 1 curl -sf --no-progress-meter -Z --parallel-max 8 -X POST "http://127.0.0.1:6784/ip/par[1-$count]" -o /dev/null \
            || echo "parallel failed" >&2
        par_rate=$(echo "$count / ($(elapsed "$start"))" | bc -l)
        held=$(tn_weft 1 report | jq '.ipam.allocated')
        [ "$held" = $((2 * count)) ] || echo "expected $((2 * count)) allocations, router holds $held" >&2
        printf '%.0f %.0f\n' "$seq_rate" "$par_rate"
    )
}

agreement() {  # prints seconds (3 decimals) for N routers to agree
    local n=$1
    (
        TN_ID="bipam$$$n$RANDOM"
        source testnet/lib.sh
        tn_setup "$n" >/dev/null
        start=$(date +%s.%N)
        tn_launch 1 --ipalloc-init consensus="$n" >/dev/null 2>&1
        for i in $(seq 2 "$n"); do tn_launch "$i" --ipalloc-init consensus="$n" "$(tn_ip 1)" >/dev/null 2>&1 & done
        wait
        ready() { local i; for i in $(seq 1 "$n"); do tn_http "$i" /metrics | grep -Eq '^weft_ipam_ready 1(\.0)?$' || return 1; done; }
        deadline=$((SECONDS + 60))
        until ready; do
            [ $SECONDS -lt $deadline ] || { echo "no agreement after 60 s" >&2; echo 999; exit 0; }
            sleep 0.05
        done
        printf '%.3f\n' "$(elapsed "$start")"
    )
}

(source testnet/lib.sh; tn_bench_header "$0" "runs=$runs count=$count routers=${sizes[*]}")
echo "| allocations | sequential runs (/s) | median (/s) | 8 clients runs (/s) | median (/s) |"
echo "|---|---|---|---|---|"
seqs=(); pars=()
for _ in $(seq 1 "$runs"); do read -r s p < <(alloc_rate); seqs+=("$s"); pars+=("$p"); done
echo "| $count | ${seqs[*]} | $(printf '%s\n' "${seqs[@]}" | median) | ${pars[*]} | $(printf '%s\n' "${pars[@]}" | median) |"
echo
echo "| routers | agreement runs (s) | median (s) |"
echo "|---|---|---|"
for n in "${sizes[@]}"; do
    times=()
    for _ in $(seq 1 "$runs"); do times+=("$(agreement "$n")"); done
    echo "| $n | ${times[*]} | $(printf '%s\n' "${times[@]}" | median) |"
done
