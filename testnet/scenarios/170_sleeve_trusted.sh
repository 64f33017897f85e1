#!/usr/bin/env bash
# --trusted-subnets: with a password, frames between two peers that both trust each other's
# subnet travel unsealed (a capture shows them); when only one side trusts, they stay sealed.
# The sleeve first (--no-fastdp), then the fast path, which a password allows only there.
source "$(dirname "$0")/../lib.sh"
tn_setup 2
tn_launch_mesh 2 --ipalloc-init consensus=2 --password trust-secret --trusted-subnets 198.18.0.0/24 --no-fastdp
tn_attach 1 t1 >/dev/null; a2=$(tn_attach 2 t2)
tn_check_within 10 "the containers ping" tn_ping t1 "$a2"
file=$(tn_capture_ping 2 t1 "$a2")
tn_check "both trust each other: the payload crosses the underlay unsealed" tn_capture_shows "$file"
tn_weft 2 stop
tn_launch 2 --password trust-secret --no-fastdp "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h2 relaunched without trusting h1 rejoins" tn_full_mesh 2
tn_check_within 15 "the containers ping again" tn_ping t1 "$a2"
file=$(tn_capture_ping 2 t1 "$a2")
tn_check "only one side trusts: the payload stays sealed" tn_capture_hides "$file"
bad() { tn_weft 1 launch --trusted-subnets 198.18.0.1/33 2>&1 | grep -q 'trusted-subnets'; }
tn_check "a malformed --trusted-subnets is refused" bad

for i in 1 2; do tn_weft $i reset >/dev/null; done
tn_launch_mesh 2 --ipalloc-init consensus=2 --password trust-secret --trusted-subnets 198.18.0.0/24
f1=$(tn_attach 1 f1); f2=$(tn_attach 2 f2)
fastdp() { tn_weft 1 report | jq -e '[.connections[] | select(.datapath == "fastdp")] | length == 1' >/dev/null; }
tn_check_within 15 "with a password, peers that trust each other use the fast path" fastdp
tn_check_within 10 "and their containers ping" tn_ping f1 "$f2"
file=$(tn_capture_ports 1 f1 "$f2")
tn_check "the frames cross in clear on UDP 6784 (trusted)" tn_capture_shows "$file.6784"
tn_weft 2 stop
tn_launch 2 --password trust-secret "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h2 relaunched without trust rejoins" tn_full_mesh 2
sleeve() { tn_weft 1 report | jq -e '[.connections[] | select(.datapath == "sleeve")] | length == 1' >/dev/null; }
tn_check_within 15 "without mutual trust the connection is back on the sleeve" sleeve
tn_check_within 15 "the containers ping" tn_ping f1 "$f2"
file=$(tn_capture_ports 1 f1 "$f2")
hidden() { tn_capture_hides "$file.6783" && ! tn_capture_shows "$file.6784"; }
tn_check "and nothing of the payload is in clear on either port" hidden
