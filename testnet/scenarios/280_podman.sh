#!/usr/bin/env bash
# Podman on the weft network (CNI): `weft setup-cni` on three hosts, then `podman run --network
# weft` containers ping each other across hosts and through a relay when the underlay between
# two hosts is cut, resolve each other by container name and network alias; --ip, -p, stop,
# start, restart, network reload, network connect/disconnect, rm -f and a pod leave IPAM and
# DNS exactly right (weft ps, the allocated count, weft dns-lookup on every host); weft attach,
# dns-add and detach take a podman container's name.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../runtimes.sh"
command -v podman >/dev/null || { echo "FAIL: podman is not installed (testnet/install-deps.sh installs it)" >&2; exit 1; }
tn_setup 3
tn_launch_mesh 3 --ipalloc-init consensus=3
for i in 1 2 3; do tn_podman_host "$i"; done

allocated() { tn_weft "$1" report | jq '.ipam.allocated'; }
attachments() { tn_weft "$1" ps | wc -l; }
pings() { tn_pexec "$1" "$2" ping -c 2 -i 0.2 -W 2 "$3" >/dev/null 2>&1; }
not_pings() { ! tn_pexec "$1" "$2" ping -c 1 -W 1 "$3" >/dev/null 2>&1; }
# True when NAME resolves to exactly ADDRS (space separated, sorted) on every host.
resolves_everywhere() {
    local name=$1 want=$2 i
    for i in 1 2 3; do [ "$(tn_weft "$i" dns-lookup "$name" 2>/dev/null | sort | tr '\n' ' ')" = "$want " ] || return 1; done
}
unknown_everywhere() {
    local i
    for i in 1 2 3; do ! tn_weft "$i" dns-lookup "$1" >/dev/null 2>&1 || return 1; done
}
lookup_in() { tn_pexec "$1" "$2" nslookup "$3" 2>/dev/null | awk '/^Name:/ {n=1} n && /^Address/ {print $NF}' | grep -qx "$4"; }

tn_podman_run 1 web1 --network-alias www
tn_podman_run 2 db2
tn_podman_run 3 app3
a1=$(tn_podman_ip 1 web1); a2=$(tn_podman_ip 2 db2); a3=$(tn_podman_ip 3 app3)
tn_log "web1=$a1 db2=$a2 app3=$a3"
tn_check "podman gave each container a weft address" test -n "$a1" -a -n "$a2" -a -n "$a3"
tn_check "h1's container pings h2's" pings 1 web1 "$a2"
tn_check "h3's container pings h1's" pings 3 app3 "$a1"
tn_check "the container's resolv.conf points at the embedded DNS" tn_pexec 3 app3 grep -q "^nameserver 169.254.53.53" /etc/resolv.conf
tn_check_within 5 "h3's container resolves web1 (on h1) by its container name" lookup_in 3 app3 web1 "$a1"
tn_check "and by its network alias" lookup_in 3 app3 www.weft.local "$a1"
tn_check "h1's container resolves db2" lookup_in 1 web1 db2 "$a2"

tn_cut 1 3
tn_check_within 30 "with h1-h3 cut, web1 still pings app3 (relayed by h2)" pings 1 web1 "$a3"
tn_restore 1 3

# --ip: an address this host's IPAM owns and nobody holds (allocated for a probe, then freed).
fixed=$(tn_alloc 2 probe); fixed=${fixed%%/*}
tn_exec 2 curl -sf -X DELETE "http://127.0.0.1:6784/ip/probe" >/dev/null
tn_podman_run 2 fixed2 --ip "$fixed" --mac-address 02:42:0a:00:00:99
tn_check "--ip gives that address" test "$(tn_podman_ip 2 fixed2)" = "$fixed"
tn_check "--mac-address gives that MAC" tn_pexec 2 fixed2 grep -qx 02:42:0a:00:00:99 /sys/class/net/eth0/address
tn_check "and it pings across hosts" pings 2 fixed2 "$a1"

# -p: a host port of h1 reaches busybox httpd in its container, from another host.
tn_podman 1 run -d --pull never --name http1 --network weft -p 18080:80 localhost/bb:latest httpd -f -p 80 -h /etc >/dev/null
served() { tn_exec 2 curl -sf --max-time 2 "http://$(tn_ip 1):18080/passwd" | grep -q "^root:"; }
tn_check_within 10 "-p 18080:80: h2 fetches from h1's port 18080 what h1's container serves" served

# restart, stop and start: one address and one name all along, none left while stopped.
base2=$(allocated 2)
tn_podman 2 restart -t 0 db2 >/dev/null
r2=$(tn_podman_ip 2 db2)
tn_check "after podman restart, h2 holds as many addresses as before" test "$(allocated 2)" = "$base2"
tn_check_within 5 "db2's name gives its one address on every host" resolves_everywhere db2 "$r2"
tn_check "and it pings" pings 2 db2 "$a1"
tn_podman 2 stop -t 0 db2 >/dev/null
tn_check "a stopped container holds no address" test "$(allocated 2)" = "$((base2 - 1))"
tn_check_within 5 "nor a name, on any host" unknown_everywhere db2
tn_podman 2 start db2 >/dev/null
s2=$(tn_podman_ip 2 db2)
tn_check_within 5 "started again, db2 resolves to its address everywhere" resolves_everywhere db2 "$s2"
tn_check "with one address held" test "$(allocated 2)" = "$base2"

# network reload: DEL then ADD with the old IP and MAC: the same address and MAC.
mac1=$(tn_pexec 1 web1 cat /sys/class/net/eth0/address)
tn_podman 1 network reload web1 >/dev/null
tn_check "podman network reload keeps web1's address" test "$(tn_podman_ip 1 web1)" = "$a1"
tn_check "and its MAC" test "$(tn_pexec 1 web1 cat /sys/class/net/eth0/address)" = "$mac1"
tn_check "and it pings" pings 1 web1 "$a3"

# network connect / disconnect: a container of a second weft network gets eth1 on `weft`.
tn_weft 3 setup-cni --network weftb --bin-dir "$TN_CNI_BIN" --conf-dir "$(tn_podman_dir 3)/cni" >/dev/null
tn_podman 3 run -d --pull never --name multi3 --network weftb --cap-add NET_RAW localhost/bb:latest sleep 3600 >/dev/null
base3=$(allocated 3)
tn_podman 3 network connect weft multi3
m3=$(tn_pexec 3 multi3 ip -4 -o addr show eth1 | awk '{print $4}'); m3=${m3%%/*}
tn_check "network connect: multi3 has eth1 on weft, one more address held" test -n "$m3" -a "$(allocated 3)" = "$((base3 + 1))"
tn_check "h1's container pings its eth1 address" pings 1 web1 "$m3"
tn_podman 3 network disconnect weft multi3
tn_check "network disconnect frees that address" test "$(allocated 3)" = "$base3"
tn_check "and leaves multi3 with one attachment" test "$(tn_weft 3 ps | grep -c "$(tn_podman 3 inspect -f '{{.Id}}' multi3)")" = 1

# rm -f: address and names (name and alias) gone everywhere.
base1=$(allocated 1)
tn_podman 1 rm -f -t 0 web1 >/dev/null
tn_check "podman rm -f frees the address" test "$(allocated 1)" = "$((base1 - 1))"
tn_check_within 5 "and the name, on every host" unknown_everywhere web1
tn_check "and the alias" unknown_everywhere www

# A pod: one address for its containers.
tn_podman 2 pod create --network weft --name pod2 >/dev/null
tn_podman 2 run -d --pull never --pod pod2 --name pa --cap-add NET_RAW localhost/bb:latest sleep 3600 >/dev/null
tn_podman 2 run -d --pull never --pod pod2 --name pb localhost/bb:latest sleep 3600 >/dev/null
pa=$(tn_pexec 2 pa ip -4 -o addr show eth0 | awk '{print $4}')
pb=$(tn_pexec 2 pb ip -4 -o addr show eth0 | awk '{print $4}')
tn_check "a pod's containers share one address ($pa)" test -n "$pa" -a "$pa" = "$pb"
tn_check_within 5 "the pod's name resolves to it" resolves_everywhere pod2 "${pa%%/*}"
tn_check "h3's container pings the pod" pings 3 app3 "${pa%%/*}"
tn_podman 2 pod rm -f -t 0 pod2 >/dev/null
tn_check_within 5 "pod rm -f frees its name" unknown_everywhere pod2

# weft attach, dns-add and detach by podman container name.
tn_podman 1 run -d --pull never --name loner --network none --cap-add NET_RAW localhost/bb:latest sleep 3600 >/dev/null
la=$(tn_runtime_exec 1 weft attach loner); la=${la%%/*}
tn_check "weft attach by podman container name gives it an address ($la)" test -n "$la"
tn_check "h3's container pings it" pings 3 app3 "$la"
tn_check_within 5 "its container name resolves everywhere" resolves_everywhere loner "$la"
tn_runtime_exec 1 weft dns-add loner -h hermit
tn_check_within 5 "dns-add by container name" resolves_everywhere hermit "$la"
tn_runtime_exec 1 weft detach loner
tn_check_within 5 "detach by container name takes its names" unknown_everywhere loner
tn_check "and its address" not_pings 3 app3 "$la"
tn_podman 1 rm -f -t 0 loner >/dev/null

# Everything removed: no attachment, no address beyond each host's own (expose), no name.
tn_runtimes_teardown
for i in 1 2 3; do
    tn_check "h$i: no attachment left" test "$(attachments "$i")" = 0
    tn_check "h$i: only the host's own address held" test "$(allocated "$i")" = 1
done
tn_check "no name left but the one dns-add gave by hand" test "$(tn_weft 1 report | jq '[.dns.entries[] | select(.hostname != "hermit.weft.local.")] | length')" = 0
