#!/usr/bin/env bash
# Benchmark: how long a user waits from starting a container to its first ping across hosts,
# and from `weft launch` to an answering router. Two hosts (release build, no password, so the
# fast path): a target on h2, then ROUNDS times on h1: `weft attach` of a fresh namespace,
# `podman run --network weft`, `docker run --network weft`, each timed from the command until a
# ping from the new container to h2's target gets an answer (ping -c 1 -W 1 in a loop); the
# container is removed between rounds. On a third host, `weft launch` (it returns once the API
# answers) then `weft stop`, ROUNDS times. Prints each round and the median per kind.
#   testnet/bench/containers.sh [ROUNDS]      (default: 10)
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-10}
testnet/install-deps.sh >/dev/null
for p in weftd weft weft-cni weft-docker-plugin; do swift build -c release --product "$p" >/dev/null || exit 1; done
export TN_BIN=$PWD/.build/release
source testnet/lib.sh
source testnet/runtimes.sh
tn_bench_header "$0" "$@"
tn_setup 3
for i in 1 2; do
    mkdir -p "$(tn_docker_dir "$i")/plugins"
    peers=(); [ "$i" -gt 1 ] && peers=("$(tn_ip 1)")
    DOCKER_HOST="unix://$(tn_docker_socket "$i")" tn_launch "$i" --ipalloc-init consensus=2 --docker-plugin \
        --docker-plugin-socket "$(tn_docker_plugin_socket "$i")" "${peers[@]}" >/dev/null 2>&1
done
tn_wait 20 tn_full_mesh 2 || { echo "no mesh"; exit 1; }
for i in 1 2; do tn_podman_host "$i"; tn_docker_host "$i"; done
range=$(tn_weft 1 report | jq -r '.ipam.range')
for i in 1 2; do tn_docker "$i" network create -d weft --ipam-driver weft --subnet "$range" weft >/dev/null; done
target=$(tn_attach 2 target --name target)
echo "# podman $(podman --version | awk '{print $3}'), docker $(/usr/bin/docker --version | awk '{print $3}' | tr -d ,), target $target on h2"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Milliseconds from START until CMD... succeeds (tries every 20 ms, 30 s at most).
until_ok() {
    local start=$1; shift
    for _ in $(seq 1 1500); do "$@" >/dev/null 2>&1 && { echo $(($(now_ms) - start)); return; }; sleep 0.02; done
    echo "timeout"
}

declare -A times
for r in $(seq 1 "$rounds"); do
    t=$(now_ms); ns=$(tn_container 1 "b$r"); tn_weft 1 attach "$ns" >/dev/null
    times[attach]+="$(until_ok "$t" tn_cexec "b$r" ping -c 1 -W 1 "$target") "
    tn_weft 1 detach "$ns" >/dev/null; ip netns del "$ns"

    t=$(now_ms); tn_podman_run 1 "p$r"
    times[podman]+="$(until_ok "$t" tn_pexec 1 "p$r" ping -c 1 -W 1 "$target") "
    tn_podman 1 rm -f -t 0 "p$r" >/dev/null

    t=$(now_ms); tn_docker 1 run -d --name "d$r" --network weft localhost/bb:latest sleep 3600 >/dev/null
    times[docker]+="$(until_ok "$t" tn_docker 1 exec "d$r" ping -c 1 -W 1 "$target") "
    tn_docker 1 rm -f "d$r" >/dev/null

    t=$(now_ms); tn_launch 3 --ipalloc-range "" >/dev/null 2>&1; times[launch]+="$(($(now_ms) - t)) "
    tn_weft 3 stop
    echo "round $r: attach $(echo ${times[attach]} | awk '{print $NF}') ms, podman $(echo ${times[podman]} | awk '{print $NF}') ms, docker $(echo ${times[docker]} | awk '{print $NF}') ms, launch $(echo ${times[launch]} | awk '{print $NF}') ms"
done
echo
echo "| kind | median ms (to a ping across hosts; launch: to an answering API) | min | max |"
echo "| --- | --- | --- | --- |"
for k in attach podman docker launch; do
    m=$(tr ' ' '\n' <<<"${times[$k]}" | grep -v '^$' | tn_median)
    lo=$(tr ' ' '\n' <<<"${times[$k]}" | grep -v '^$' | sort -g | head -1)
    hi=$(tr ' ' '\n' <<<"${times[$k]}" | grep -v '^$' | sort -g | tail -1)
    echo "| $k | $m | $lo | $hi |"
done
