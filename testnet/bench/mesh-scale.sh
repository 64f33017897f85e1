#!/usr/bin/env bash
# Benchmark: full meshes of N real routers in network namespaces (release build), each told
# only h1 and launched together. Per N: time from the first launch until every router reports
# N peers and N-1 established connections; CPU seconds per router to get there (user + system,
# from /proc, start-up included); gossip bytes and messages each router received (its
# /metrics, every channel, and the topology channel's bytes against the size of the topology it
# holds); resident memory; then, 10 s after the formation, the idle cost of the formed mesh (CPU per
# router and UDP datagrams it sends per second, over 10 s).
# The largest N is formed a second time with a password for its idle cost. Ends with the fitted
# growth exponent of CPU per router (least squares of log CPU on log N).
#   testnet/bench/mesh-scale.sh [N...]     (default: 10 20 40 70 100)
set -u
cd "$(dirname "$0")/../.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(10 20 40 70 100)
swift build -c release --product weftd >/dev/null && swift build -c release --product weft >/dev/null || exit 1
export TN_BIN=$PWD/.build/release
hz=$(getconf CLK_TCK)

# "metric value" of host I's /metrics, for series matching REGEX (summed).
metric_sum() { tn_http "$1" /metrics | awk -v re="$2" '$0 ~ re {s += $2} END {printf "%d\n", s}'; }


# One formation of N routers; prints "seconds cpu_ms bytes messages topology_bytes holds_bytes
# rss_mb idle_pct datagrams_per_s" (medians over the routers).
run_once() {
    local n=$1 password=$2
    (
        TN_ID="scale$$$n$RANDOM"
        source testnet/lib.sh
        tn_setup "$n" >/dev/null 2>&1
        args=(); [ -n "$password" ] && args=(--password "$password")
        start=$(date +%s.%N)
        tn_launch 1 "${args[@]}" >/dev/null 2>&1
        for i in $(seq 2 "$n"); do tn_launch "$i" "${args[@]}" "$(tn_ip 1)" >/dev/null 2>&1 & done
        wait
        # One host at a time until it is full (a full host stays full while nothing fails), so
        # the polling costs the routers little while they form the mesh; then all once more.
        deadline=$((SECONDS + 180))
        for pass in 1 2; do
            waited=0
            for i in $(seq 1 "$n"); do
                until tn_host_full "$i" "$n"; do
                    [ $SECONDS -lt $deadline ] || { echo "no full mesh of $n after 180 s" >&2; echo "999 0 0 0 0 0 0 0 0"; exit 0; }
                    waited=1
                    sleep 0.1
                done
            done
            # The second pass only confirms; it moves the end only if some host was not full.
            [ "$pass" = 1 ] || [ "$waited" = 1 ] && end=$(date +%s.%N)
        done
        for i in $(seq 1 "$n"); do tn_cpu_ticks "$i"; done >"$TN_RUN/cpu0"
        seconds=$(echo "$end - $start" | bc -l | xargs printf '%.2f')
        cpu=$(awk -v hz="$hz" '{print $1 * 1000 / hz}' "$TN_RUN/cpu0" | tn_median)
        bytes=$(for i in $(seq 1 "$n"); do tn_gossip_received "$i"; done | tn_median)
        msgs=$(for i in $(seq 1 "$n"); do metric_sum "$i" '^weft_gossip_messages_total.*direction="received"'; done | tn_median)
        topo=$(for i in $(seq 1 "$n"); do metric_sum "$i" '^weft_gossip_bytes_total.*channel="topology".*direction="received"'; done | tn_median)
        # What a router must hold: N entries (name, nickname, uid, version: 30 bytes) of N-1
        # connections (name, address, flags: about 25 bytes), as the wire encodes them.
        holds=$(tn_weft 1 report | jq '[.peers[] | 30 + ([.connections[] | 9 + (.address | length)] | add // 0)] | add')
        rss=$(for i in $(seq 1 "$n"); do awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$(cat "$(tn_state "$i")/weftd.pid")/status"; done | tn_median)
        # Idle: after 10 s to settle (the last summaries and digests), 10 s in which nothing
        # asks the routers anything: CPU, and UDP datagrams sent (heartbeats and probes).
        sleep 10
        udp_out() { ip netns exec "$(tn_ns "$1")" awk '/^Udp:/ && $2 ~ /^[0-9]/ {print $5}' /proc/net/snmp; }
        for i in $(seq 1 "$n"); do echo "$(tn_cpu_ticks "$i") $(udp_out "$i")"; done >"$TN_RUN/cpu1"
        sleep 10
        for i in $(seq 1 "$n"); do echo "$(tn_cpu_ticks "$i") $(udp_out "$i")"; done >"$TN_RUN/cpu2"
        idle=$(paste "$TN_RUN/cpu1" "$TN_RUN/cpu2" | awk -v hz="$hz" '{printf "%.2f\n", ($3 - $1) * 100 / hz / 10}' | tn_median)
        datagrams=$(paste "$TN_RUN/cpu1" "$TN_RUN/cpu2" | awk '{printf "%.0f\n", ($4 - $2) / 10}' | tn_median)
        echo "$seconds $cpu $bytes $msgs $topo $holds $rss $idle $datagrams"
    )
}

(source testnet/lib.sh; tn_bench_header "$0" "routers=${sizes[*]}")
echo "| routers | time to full mesh (s) | CPU per router (ms) | gossip received per router (bytes / messages) | topology received / topology held | RSS per router (MB) | idle CPU per router (% of a core) | idle UDP datagrams out per router (/s) |"
echo "|---|---|---|---|---|---|---|---|"
fit=""
for n in "${sizes[@]}"; do
    read -r s cpu bytes msgs topo holds rss idle datagrams <<<"$(run_once "$n" "")"
    ratio=$(echo "scale=2; $topo / ($holds + 1)" | bc -l)
    echo "| $n | $s | $cpu | $bytes / $msgs | $topo / $holds = $ratio | $rss | $idle | $datagrams |"
    fit="$fit $n $cpu"
done
last=${sizes[-1]}
read -r s cpu bytes msgs topo holds rss idle datagrams <<<"$(run_once "$last" "bench-password")"
echo "| $last, password | $s | $cpu | $bytes / $msgs | $topo / $holds | $rss | $idle | $datagrams |"
echo
echo "$fit" | awk '{
    n = 0; for (i = 1; i < NF; i += 2) { x = log($i); y = log($(i + 1)); sx += x; sy += y; sxx += x * x; sxy += x * y; n++ }
    if (n > 1) printf "CPU per router grows as N^%.2f (least squares over N =%s)\n", (n * sxy - sx * sy) / (n * sxx - sx * sx), "'"$(printf ' %s' "${sizes[@]}")"'"
}'
