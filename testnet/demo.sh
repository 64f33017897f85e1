#!/usr/bin/env bash
# The demo: four hosts in network namespaces. h1 starts alone; h2 and h3 know only h1; h4 knows
# only h3 and cannot reach h1 at all (its underlay link to h1 is cut). Gossip spreads the
# topology, every router connects to every peer it can, and h1 reaches h4 through a relay.
# The four agree on an IPAM ring (consensus of 4); a container attached on each host gets an
# address from it and a name in weft.local., the containers ping each other over the encrypted
# sleeve (h1's and h4's through a relay), and resolve each other's names through the embedded
# DNS (records gossiped by every router). Then the same mesh without a password: direct peers
# switch to the kernel VXLAN fast path, and h1–h4 stays on the sleeve through a relay. Last,
# podman containers on the weft CNI network ping and resolve each other across hosts.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the demo creates network namespaces" >&2; exit 1; }
testnet/install-deps.sh
swift build 2>&1 | tail -n 1
source testnet/lib.sh
tn_setup 4
tn_cut 1 4
echo "== launching 4 routers (h4's underlay to h1 is cut)"
for i in 1 2 3 4; do
    case $i in 1) peers=();; 4) peers=("$(tn_ip 3)");; *) peers=("$(tn_ip 1)");; esac
    printf 'h%s: %s\n' "$i" "$(tn_launch "$i" --password demo-secret --ipalloc-init consensus=4 "${peers[@]}")"
done
mesh_formed() { for i in 1 2 3 4; do [ "$(tn_peer_count "$i")" = 4 ] || return 1; done; }
start=$SECONDS
tn_wait 30 mesh_formed || { echo "the mesh did not form"; tn_dump; exit 1; }
echo "== every router knows all 4 peers after $((SECONDS - start)) s"
echo; echo "== weft status (h1)"; tn_weft 1 status
echo; echo "== weft status peers (h1)"; tn_weft 1 status peers
echo; echo "== weft status connections (h1)"; tn_weft 1 status connections
echo; echo "== unicast routes of h1 (destination -> next hop)"
tn_weft 1 report | jq -r '.peers as $p | .routes.unicast | to_entries[] | .key as $k | .value as $v |
    "  \($k)(\([$p[] | select(.name == $k)][0].nickname)) -> \($v)(\([$p[] | select(.name == $v)][0].nickname))"'
echo; echo "== IPAM agreement, then a container attached on each host"
for i in 1 2 3 4; do tn_weft "$i" prime --timeout 20; done
declare -A addr
for i in 1 2 3 4; do
    addr[$i]=$(tn_attach "$i" "c$i" --name "c$i")
    echo "  h$i: weft attach --name c$i c$i -> ${addr[$i]}"
done
echo; echo "== weft ps (h1)"; tn_weft 1 ps
echo; echo "== pings between the containers (sleeve, encrypted)"
for i in 1 2 3 4; do for j in 1 2 3 4; do
    [ "$i" = "$j" ] && continue
    if tn_wait 10 tn_ping "c$i" "${addr[$j]}" 1; then r=ok; else r=FAILED; fi
    echo "  c$i (h$i) -> c$j (h$j) ${addr[$j]}: $r"
done; done
echo; echo "== names: each container resolves the others through its resolv.conf (getent, dig)"
for i in 1 2 3 4; do
    j=$((i % 4 + 1))
    found() { [ "$(tn_cexec "c$i" getent hosts "c$j" | awk '{print $1}')" = "${addr[$j]}" ]; }
    if tn_wait 5 found; then r=ok; else r=FAILED; fi
    echo "  c$i: getent hosts c$j -> $(tn_cexec "c$i" getent hosts "c$j"): $r"
done
echo "  c1: dig +short -x ${addr[4]} -> $(tn_dig c1 -x "${addr[4]}")"
echo "  c1: ping c4.weft.local: $(tn_cexec c1 ping -c 1 -W 2 c4.weft.local >/dev/null 2>&1 && echo ok || echo FAILED)"
echo; echo "== weft status dns (h2)"; tn_weft 2 status dns
echo; echo "== weft status connections (h1): no direct connection to h4, whose frames go through a relay"; tn_weft 1 status connections
echo; echo "== weft status ipam (h1)"; tn_weft 1 status ipam

echo; echo "== the fast path: the same four hosts relaunched without a password"
for i in 1 2 3 4; do tn_weft "$i" reset >/dev/null; done
for i in 1 2 3 4; do
    case $i in 1) peers=();; 4) peers=("$(tn_ip 3)");; *) peers=("$(tn_ip 1)");; esac
    tn_launch "$i" --ipalloc-init consensus=4 "${peers[@]}" >/dev/null 2>&1
done
tn_wait 30 mesh_formed || { echo "the mesh did not form"; tn_dump; exit 1; }
for i in 1 2 3 4; do
    ip netns del "${TN_PREFIX}c-c$i"
    addr[$i]=$(tn_attach "$i" "c$i" --name "c$i")
done
on_fastdp() { [ "$(tn_weft 1 status connections | grep -c ' fastdp ')" = 2 ]; }
tn_wait 15 on_fastdp || echo "  (h1's direct peers did not reach fastdp)"
for j in 2 4; do
    if tn_wait 10 tn_ping c1 "${addr[$j]}" 1; then r=ok; else r=FAILED; fi
    echo "  c1 (h1) -> c$j (h$j) ${addr[$j]}: $r"
done
echo; echo "== weft status connections (h1): fastdp to h2 and h3 (kernel VXLAN, UDP 6784); h4 only by relay"
tn_weft 1 status connections
echo; echo "== weft status (h1)"; tn_weft 1 status | sed -n '/Service: fastdp/,$p'
echo; echo "== containers as users run them: podman with the weft CNI network (weft setup-cni)"
source testnet/runtimes.sh
for i in 1 2 4; do tn_podman_host "$i"; done
echo "  h1: weft setup-cni -> $(tn_podman 1 network ls --format '{{.Name}} ({{.Driver}})' | grep weft)"
tn_podman_run 1 web --network-alias www
tn_podman_run 2 db
tn_podman_run 4 app
declare -A paddr
for c in "1 web" "2 db" "4 app"; do
    set -- $c
    paddr[$2]=$(tn_podman_ip "$1" "$2")
    echo "  h$1: podman run --network weft --name $2 -> ${paddr[$2]}"
done
for pair in "1 web db" "4 app web" "2 db app"; do
    set -- $pair
    if tn_wait 10 tn_pexec "$1" "$2" ping -c 1 -W 2 "$3.weft.local" >/dev/null 2>&1; then r=ok; else r=FAILED; fi
    echo "  $2 (h$1) -> ping $3.weft.local (${paddr[$3]}): $r"
done
echo "  app (h4): nslookup www -> $(tn_pexec 4 app nslookup www 2>/dev/null | awk '/^Name:/ {n=1} n && /^Address/ {print $NF}')"
echo; echo "== weft ps (h1): the podman container's attachment"; tn_weft 1 ps

echo; echo "demo finished; tearing down"
