#!/usr/bin/env bash
# DNS: names attached on one host resolve on every other (getent and dig through the resolv.conf
# attach writes), several addresses per name, reverse lookups, names outside the domain from a
# stand-in upstream (dnsmasq on h4, with a truncated answer that must come whole over TCP),
# detach removes a name everywhere within a second, a restarted router repopulates, random
# bytes on port 53 leave the server answering, and the dns-add/remove/lookup commands.
source "$(dirname "$0")/../lib.sh"
tn_setup 4
upstream=$(tn_ip 4)
hosts=("$TN_RUN/many.hosts")
for i in $(seq 1 60); do echo "192.0.2.$i many.example.test"; done > "$hosts"
tn_exec 4 dnsmasq --no-resolv --no-hosts --addn-hosts="$hosts" --address=/www.example.test/192.0.2.200 \
    --listen-address="$upstream" --bind-interfaces --pid-file="$TN_RUN/dnsmasq.pid" --port=53
trap 'kill "$(cat "$TN_RUN/dnsmasq.pid")" 2>/dev/null; tn_teardown' EXIT
echo "nameserver $upstream" > "$TN_RUN/resolv.conf"
tn_launch_mesh 3 --ipalloc-init consensus=3 --resolv-conf "$TN_RUN/resolv.conf"

web1=$(tn_attach 1 web1 --name web)
client=$(tn_attach 3 client --name client)
tn_check "attach wrote the container's resolv.conf" grep -q "^nameserver 169.254.53.53" "/etc/netns/${TN_PREFIX}c-client/resolv.conf"
resolves() { [ "$(tn_dig client "$1" | sort | tr '\n' ' ')" = "$2 " ]; }
tn_check_within 5 "h3's container resolves web.weft.local (attached on h1) with dig" resolves web.weft.local "$web1"
getent_finds() { tn_cexec client getent hosts "$1" | grep -q "^$web1 "; }
tn_check "getent resolves the FQDN" getent_finds web.weft.local
tn_check "getent resolves the bare name through the search domain" getent_finds web
tn_check "names are case-insensitive" resolves WEB.Weft.Local "$web1"

web2=$(tn_attach 2 web2 --name web)
both=$(printf '%s\n' "$web1" "$web2" | sort | tr '\n' ' ')
tn_check_within 2 "the same name on h1 and h2 gives both addresses" resolves web.weft.local "${both% }"
rotates() { [ "$(tn_dig client web.weft.local | head -1)" != "$(tn_dig client web.weft.local | head -1)" ]; }
tn_check "the order of the addresses rotates" rotates
reverse() { tn_dig client -x "$web1" | grep -qx "web.weft.local."; }
tn_check "reverse lookup of h1's container" reverse
nx() { tn_cexec client dig +time=2 +tries=1 nope.weft.local | grep -q "status: NXDOMAIN"; }
tn_check "an unknown name in the domain is NXDOMAIN" nx
aaaa() { local out; out=$(tn_cexec client dig +time=2 +tries=1 AAAA web.weft.local); grep -q "status: NOERROR" <<<"$out" && grep -q "ANSWER: 0," <<<"$out"; }
tn_check "AAAA of a known name: empty answer, no error" aaaa

tn_check "a name outside the domain comes from the upstream resolver" resolves www.example.test 192.0.2.200
many() { [ "$(tn_dig client +noedns many.example.test | wc -l)" = 60 ]; }
tn_check "a large upstream answer comes whole (truncated over UDP, then over TCP)" many
truncated() { tn_cexec client dig +noedns +ignore +time=2 +tries=1 many.example.test | grep -q "flags:[a-z ]* tc[ ;]"; }
tn_check "over UDP without EDNS the large answer is truncated" truncated
edns() { [ "$(tn_dig client +bufsize=4096 +notcp +ignore many.example.test | wc -l)" = 60 ]; }
tn_check "with an EDNS0 buffer of 4096 it fits in one datagram" edns
tcp() { [ "$(tn_dig client +tcp web.weft.local | wc -l)" = 2 ]; }
tn_check "queries over TCP" tcp

start=$(date +%s.%N)
tn_weft 2 detach "${TN_PREFIX}c-web2" >/dev/null
gone_everywhere() { resolves web.weft.local "$web1" && [ "$(tn_weft 1 dns-lookup web)" = "$web1" ]; }
tn_check_within 1 "detach on h2 removes its name on h1 and h3 within a second" gone_everywhere
tn_log "name gone everywhere $(echo "$(date +%s.%N) - $start" | bc) s after detach"

tn_kill 3
gone3() { [ "$(tn_weft 1 report | jq '.peers | length')" = 2 ]; }
tn_check_within 10 "h1 sees h3 gone" gone3
kept() { [ "$(tn_weft 1 dns-lookup client)" = "$client" ]; }
tn_check "h3's names stay while it is away (a grace period, not a moment of absence)" kept
tn_launch 3 --ipalloc-init consensus=3 --resolv-conf "$TN_RUN/resolv.conf" "$(tn_ip 1)" >/dev/null
tn_check_within 10 "a restarted h3 gets the names back" resolves web.weft.local "$web1"
own() { [ "$(tn_weft 1 dns-lookup client)" = "$client" ]; }
tn_check "and keeps announcing its own" own

tn_cexec client python3 - <<'PY'
import os, socket
for _ in range(2000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(os.urandom(int.from_bytes(os.urandom(1), "big") % 300), ("169.254.53.53", 53))
    s.close()
for _ in range(20):
    t = socket.create_connection(("169.254.53.53", 53), timeout=2)
    t.sendall(os.urandom(400))
    t.close()
PY
tn_check "after 2000 random datagrams and 20 random TCP streams the server still answers" resolves web.weft.local "$web1"
malformed() { [ "$(tn_http 3 /metrics | awk '/^weft_dns_malformed_total/ {print $2}')" -gt 100 ]; }
tn_check "the garbage is counted" malformed

tn_weft 1 dns-add 10.99.0.1 10.99.0.2 -h ext >/dev/null
lookup() { [ "$(tn_weft 3 dns-lookup ext.weft.local | tr '\n' ' ')" = "10.99.0.1 10.99.0.2 " ]; }
tn_check_within 2 "dns-add on h1, dns-lookup on h3" lookup
tn_weft 1 dns-remove 10.99.0.1 -h ext >/dev/null
one_left() { [ "$(tn_weft 3 dns-lookup ext)" = "10.99.0.2" ]; }
tn_check_within 2 "dns-remove takes one address away" one_left
tn_weft 1 dns-add "${TN_PREFIX}c-web1" -h alias >/dev/null
tn_check_within 2 "dns-add with a container ID uses its addresses" resolves alias.weft.local "$web1"
listed() { tn_weft 2 status dns | grep -q "^web.weft.local. *$web1 "; }
tn_check "status dns lists the records" listed
report() { tn_weft 2 status dns --json | jq -e --arg a "$web1" '[.entries[] | select(.hostname == "web.weft.local." and .address == $a and .origin != null)] | length == 1'; }
tn_check "status dns --json has entries with hostname, address, origin" report
bad() { ! tn_weft 1 dns-add 10.99.0.3 -h 'a..b' 2>/dev/null; }
tn_check "a bad name is refused" bad

tn_weft 1 detach "${TN_PREFIX}c-web1" >/dev/null
tn_check "detach removes the resolv.conf attach wrote" test ! -e "/etc/netns/${TN_PREFIX}c-web1/resolv.conf"
for i in 1 2 3; do tn_weft $i reset >/dev/null; done
tn_launch 1 --no-dns >/dev/null
off() { ! tn_weft 1 status dns 2>/dev/null && ! tn_exec 1 ip -4 addr show weft | grep -q 169.254.53.53; }
tn_check "--no-dns: no server, no address" off
tn_weft 1 reset >/dev/null
