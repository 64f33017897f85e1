#!/usr/bin/env bash
# Restarts without storms. A full mesh of 50 forms (each told only h1, launched together);
# then 10 routers stop at once and 10 others are killed with -9, and all 20 are launched again
# together. The mesh is full again within 10 s of the last launch (release build; 60 s for a
# debug build), and no router pays more for
# it than a fresh join cost: the 30 that stayed spend less CPU (beyond their idle rate) during
# the restarts than the median router did to form the mesh (h1, the one every router joins
# through, less than it did itself; its bytes too), and receive at most 1.5 times its
# gossip bytes (seen: 0.85-1.3 times; every rejoining peer's whole entry and two deltas of each
# entry that stayed reach every router; a storm would be many times); the 20 relaunched (fresh
# joins themselves) no more than twice that median's CPU and bytes (seen: 0.6-1.5 times, a
# change reaching a rejoining router about once; when every neighbour that lacked its entry
# passed changes on to it, up to 2.5 times).
source "$(dirname "$0")/../lib.sh"
n=50
tn_setup $n
tn_launch 1 >/dev/null
for i in $(seq 2 $n); do tn_launch "$i" "$(tn_ip 1)" >/dev/null & done
wait
tn_check_within 120 "a full mesh of $n" tn_metrics_full_mesh $n

for i in $(seq 1 $n); do echo "$i $(tn_cpu_ticks "$i") $(tn_gossip_received "$i")"; done >"$TN_RUN/fresh"
fresh_cpu=$(awk '{print $2}' "$TN_RUN/fresh" | tn_median)
fresh_bytes=$(awk '{print $3}' "$TN_RUN/fresh" | tn_median)
tn_log "a fresh join cost (median): $fresh_cpu CPU ticks, $fresh_bytes gossip bytes received"
# What the routers spend idle (heartbeats, probes), so the restarts' cost is counted above it.
for i in $(seq 1 30); do tn_cpu_ticks "$i"; done >"$TN_RUN/idle0"
sleep 5
for i in $(seq 1 30); do echo "$i $(tn_cpu_ticks "$i") $(tn_gossip_received "$i")"; done >"$TN_RUN/before"
idle_per_s=$(paste "$TN_RUN/idle0" "$TN_RUN/before" | awk '{print ($3 - $1) / 5}' | tn_median)
restart_start=$SECONDS

for i in $(seq 41 50); do tn_weft "$i" stop >/dev/null & done
for i in $(seq 31 40); do tn_kill "$i" KILL & done
wait
for i in $(seq 31 50); do tn_launch "$i" "$(tn_ip 1)" >/dev/null & done
wait
tn_log "20 routers relaunched"
# 10 s holds for release builds; a debug build spends about 5x the CPU per router, and the 20
# rejoining routers then need the two cores for longer than that.
limit=10; case "$TN_BIN" in *release*) ;; *) limit=60 ;; esac
tn_check_within $limit "the mesh of $n is full again within $limit s of the last launch" tn_metrics_full_mesh $n

spikes() {
    local i cpu0 bytes0 cpu bytes bad=0 idle
    idle=$(awk -v r="$idle_per_s" -v t=$((SECONDS - restart_start)) 'BEGIN {printf "%d", r * t}')
    while read -r i cpu0 bytes0; do
        cpu=$(( $(tn_cpu_ticks "$i") - cpu0 - idle )); bytes=$(( $(tn_gossip_received "$i") - bytes0 ))
        # h1, whom every router (re)joins through, is measured against its own fresh join
        # (it then took in all 49), the others against the median one.
        own=$(awk -v i="$i" '$1 == i {print $2}' "$TN_RUN/fresh")
        own_bytes=$(awk -v i="$i" '$1 == i {print $3}' "$TN_RUN/fresh")
        bound=$(( own > fresh_cpu && i == 1 ? own : fresh_cpu ))
        bytes_bound=$(( own_bytes > fresh_bytes && i == 1 ? own_bytes : fresh_bytes ))
        if [ "$cpu" -gt "$bound" ] || [ "$bytes" -gt $((bytes_bound * 3 / 2)) ]; then
            echo "h$i (stayed): $cpu ticks, $bytes bytes during the restarts" >&2; bad=1
        fi
    done <"$TN_RUN/before"
    for i in $(seq 31 50); do
        cpu=$(tn_cpu_ticks "$i"); bytes=$(tn_gossip_received "$i")
        if [ "$cpu" -gt $((2 * fresh_cpu)) ] || [ "$bytes" -gt $((2 * fresh_bytes)) ]; then
            echo "h$i (relaunched): $cpu ticks, $bytes bytes" >&2; bad=1
        fi
    done
    return $bad
}
tn_check "no router paid more for the restarts than a fresh join" spikes
