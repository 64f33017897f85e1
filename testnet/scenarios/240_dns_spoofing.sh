#!/usr/bin/env bash
# Upstream DNS spoofing. The router forwards names outside its domain to h2, where a spoofer on
# the path answers every query first, with the right ID and port but for another question; the
# real answer follows. The container gets the real answer, and the spoofed one is counted.
# Each forwarded query leaves from a port of its own; an unreachable upstream gives SERVFAIL.
source "$(dirname "$0")/../lib.sh"
tn_setup 2
conf="$TN_RUN/upstream.conf"
echo "nameserver $(tn_ip 2)" > "$conf"
tn_exec 2 timeout 40 python3 "$TN_ROOT/testnet/tools/spoofing-upstream.py" 38 &
tn_launch 1 --resolv-conf "$conf" >/dev/null
tn_attach 1 d1 >/dev/null
answer() { tn_cexec d1 dig @169.254.53.53 "$1" +short +tries=1 +time=3 2>/dev/null; }
real() { [ "$(answer real.example)" = 1.2.3.4 ]; }
tn_check "the container gets the real answer, not the spoofed one" real
counted() { [ "$(tn_http 1 /metrics | awk '/^weft_dns_upstream_mismatched_total/ {print $2}')" -ge 1 ]; }
tn_check "the spoofed answer is counted" counted
ports() {
    local file="$TN_RUN/upstream.pcap" pid n
    tn_capture_start tn_exec 1 timeout 10 tcpdump -i eth0 -n -U -w "$file" udp dst port 53
    pid=$TN_CAPTURE_PID
    for name in a b c d; do answer "$name.example" >/dev/null; done
    sleep 0.5
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    n=$(tcpdump -r "$file" -n 2>/dev/null | awk '{print $3}' | sort -u | wc -l)
    [ "$n" -ge 4 ]
}
tn_check "four forwarded queries leave from four source ports" ports
# An upstream with no route to it (the demo's case: the machine's resolver is not reachable
# from a testnet host): SERVFAIL, and the router goes on.
echo "nameserver 198.19.255.1" > "$TN_RUN/unreachable.conf"
tn_weft 1 stop
tn_launch 1 --resolv-conf "$TN_RUN/unreachable.conf" >/dev/null
servfail() { tn_cexec d1 dig @169.254.53.53 other.example +tries=1 +time=4 2>/dev/null | grep -q "status: SERVFAIL"; }
tn_check "an unreachable upstream gives SERVFAIL" servfail
alive() { tn_weft 1 status >/dev/null; }
tn_check "and the router still runs" alive
