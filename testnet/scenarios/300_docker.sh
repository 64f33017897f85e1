#!/usr/bin/env bash
# Docker on the weft network: a dockerd per host (in the host's network namespace), the weft
# network and IPAM driver beside each router (weft launch --docker-plugin), `docker network
# create -d weft --ipam-driver weft`; containers on different hosts ping and resolve each other
# by name (Docker's resolver forwarding to the embedded DNS); network disconnect/connect,
# restart, rm -f and the engine's own restart leave IPAM and DNS right; an unknown or malformed
# plugin call gets an Err answer and the plugin goes on answering; weft attach and detach take a
# Docker container's name.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../runtimes.sh"
[ -x /usr/bin/docker ] && command -v dockerd >/dev/null || { echo "FAIL: docker.io is not installed (testnet/install-deps.sh)" >&2; exit 1; }
tn_setup 2
for i in 1 2; do
    mkdir -p "$(tn_docker_dir "$i")/plugins"
    peers=(); [ "$i" -gt 1 ] && peers=("$(tn_ip 1)")
    DOCKER_HOST="unix://$(tn_docker_socket "$i")" tn_launch "$i" --ipalloc-init consensus=2 --docker-plugin --docker-plugin-socket "$(tn_docker_plugin_socket "$i")" "${peers[@]}" >/dev/null
done
tn_check_within 20 "full mesh of 2" tn_full_mesh 2
for i in 1 2; do tn_docker_host "$i"; done
range=$(tn_weft 1 report | jq -r '.ipam.range')
for i in 1 2; do tn_docker "$i" network create -d weft --ipam-driver weft --subnet "$range" weft >/dev/null; done
tn_check "docker network ls shows the weft network with the weft driver" \
    bash -c "/usr/bin/docker -H unix://$(tn_docker_socket 1) network ls --format '{{.Name}} {{.Driver}}' | grep -qx 'weft weft'"

allocated() { tn_weft "$1" report | jq '.ipam.allocated'; }
dip() { tn_docker "$1" inspect -f '{{(index .NetworkSettings.Networks "weft").IPAddress}}' "$2"; }
pings() { tn_docker "$1" exec "$2" ping -c 2 -W 2 "$3" >/dev/null 2>&1; }
resolves_everywhere() {
    local i
    for i in 1 2; do [ "$(tn_weft "$i" dns-lookup "$1" 2>/dev/null | sort | tr '\n' ' ')" = "$2 " ] || return 1; done
}
unknown_everywhere() { local i; for i in 1 2; do ! tn_weft "$i" dns-lookup "$1" >/dev/null 2>&1 || return 1; done; }
lookup_in() { tn_docker "$1" exec "$2" nslookup "$3" 2>/dev/null | awk '/^Name:/ {n=1} n && /^Address/ {print $NF}' | grep -qx "$4"; }

tn_docker 1 run -d --name d1 --network weft localhost/bb:latest sleep 3600 >/dev/null
tn_docker 2 run -d --name d2 --network weft --restart always localhost/bb:latest sleep 3600 >/dev/null
a1=$(dip 1 d1); a2=$(dip 2 d2)
tn_log "d1=$a1 d2=$a2"
tn_check "docker run gave each container a weft address" test -n "$a1" -a -n "$a2"
tn_check "the container's interface is ethwe0" tn_docker 1 exec d1 ip link show ethwe0
tn_check "h1's container pings h2's" pings 1 d1 "$a2"
tn_check "and back" pings 2 d2 "$a1"
tn_check_within 5 "d2's name is in the weft DNS on both hosts" resolves_everywhere d2 "$a2"
tn_check "d1 resolves d2 (on the other engine) through Docker's resolver and the embedded DNS" lookup_in 1 d1 d2 "$a2"
tn_check "and its FQDN" lookup_in 1 d1 d2.weft.local "$a2"

# disconnect and connect again
base=$(allocated 1)
tn_docker 1 network disconnect weft d1
tn_check "network disconnect frees d1's address" test "$(allocated 1)" = "$((base - 1))"
tn_check_within 5 "and its name" unknown_everywhere d1
tn_docker 1 network connect weft d1
c1=$(dip 1 d1)
tn_check "network connect gives it an address again" test -n "$c1" -a "$(allocated 1)" = "$base"
tn_check_within 5 "and its name" resolves_everywhere d1 "$c1"
tn_check "and it pings h2's container" pings 1 d1 "$a2"

# restart: one address, the name follows
base=$(allocated 2)
tn_docker 2 restart -t 0 d2 >/dev/null
r2=$(dip 2 d2)
tn_check "docker restart: as many addresses held" test "$(allocated 2)" = "$base"
tn_check_within 5 "d2's name gives its one address" resolves_everywhere d2 "$r2"
tn_check "and it pings" pings 1 d1 "$r2"

# the engine's own restart (d2 has --restart always)
tn_docker_stop 2
tn_check_within 10 "with h2's engine stopped, d2's address is free" test "$(allocated 2)" = "$((base - 1))"
tn_check_within 5 "and its name gone" unknown_everywhere d2
tn_docker_start 2
tn_check_within 30 "the engine back, d2 runs again" bash -c "[ \"\$(/usr/bin/docker -H unix://$(tn_docker_socket 2) inspect -f '{{.State.Running}}' d2)\" = true ]"
e2=$(dip 2 d2)
tn_check_within 10 "d2 resolves again, to its one address" resolves_everywhere d2 "$e2"
tn_check "h2 holds as many addresses as before" test "$(allocated 2)" = "$base"
tn_check "and d1 pings it" pings 1 d1 "$e2"

# rm -f
base=$(allocated 1)
tn_docker 1 rm -f d1 >/dev/null
tn_check "docker rm -f frees the address" test "$(allocated 1)" = "$((base - 1))"
tn_check_within 5 "and the name" unknown_everywhere d1

# weft attach and detach by Docker container name
tn_docker 1 run -d --name loner --network none localhost/bb:latest sleep 3600 >/dev/null
la=$(tn_runtime_exec 1 weft attach loner); la=${la%%/*}
tn_check "weft attach by Docker container name gives it an address ($la)" test -n "$la"
tn_check "h2's container pings it" pings 2 d2 "$la"
tn_check_within 5 "its name resolves" resolves_everywhere loner "$la"
tn_runtime_exec 1 weft detach loner
tn_check_within 5 "detach by name takes its name" unknown_everywhere loner
tn_docker 1 rm -f loner >/dev/null

# the protocol: unknown and malformed calls get Err, the plugin goes on
call() { tn_exec 1 curl -s -o "$TN_RUN/answer" -w '%{http_code}' --unix-socket "$(tn_docker_plugin_socket 1)" -X POST -d "$2" "http://plugin$1"; }
code=$(call /NetworkDriver.Bogus '{}')
tn_check "an unknown call gets 404 with an Err ($code)" bash -c "[ $code = 404 ] && jq -e '.Err | length > 0' $TN_RUN/answer"
code=$(call /IpamDriver.RequestAddress '{"PoolID":')
tn_check "a malformed call gets an Err ($code)" bash -c "[ $code = 400 ] && jq -e '.Err | length > 0' $TN_RUN/answer"
code=$(call /IpamDriver.RequestPool '{"Pool":"","V6":false}')
tn_check "a pool without --subnet is refused with what to do" bash -c "[ $code = 500 ] && jq -e '.Err | test(\"--subnet\")' $TN_RUN/answer"
tn_check "the plugin's socket is root's alone (it acts for root on the router)" test "$(stat -c %a "$(tn_docker_plugin_socket 1)")" = 600
code=$(call /Plugin.Activate '')
tn_check "the plugin still answers" bash -c "[ $code = 200 ] && jq -e '.Implements | index(\"IpamDriver\")' $TN_RUN/answer"

tn_docker_teardown
for i in 1 2; do tn_check "h$i: nothing left attached" test "$(tn_weft "$i" ps | wc -l)" = 0; done
tn_check "no name left" test "$(tn_weft 1 report | jq '.dns.entries | length')" = 0
