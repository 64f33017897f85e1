#!/usr/bin/env bash
# --trusted-subnets: with a password, frames between two peers that both trust each other's
# subnet travel unsealed (a capture shows them); when only one side trusts, they stay sealed.
source "$(dirname "$0")/../lib.sh"
tn_setup 2
tn_launch_mesh 2 --ipalloc-init consensus=2 --password trust-secret --trusted-subnets 198.18.0.0/24
tn_attach 1 t1 >/dev/null; a2=$(tn_attach 2 t2)
tn_check_within 10 "the containers ping" tn_ping t1 "$a2"
file=$(tn_capture_ping 2 t1 "$a2")
tn_check "both trust each other: the payload crosses the underlay unsealed" tn_capture_shows "$file"
tn_weft 2 stop
tn_launch 2 --password trust-secret "$(tn_ip 1)" >/dev/null
tn_check_within 20 "h2 relaunched without trusting h1 rejoins" tn_full_mesh 2
tn_check_within 15 "the containers ping again" tn_ping t1 "$a2"
file=$(tn_capture_ping 2 t1 "$a2")
tn_check "only one side trusts: the payload stays sealed" tn_capture_hides "$file"
bad() { tn_weft 1 launch --trusted-subnets 198.18.0.1/33 2>&1 | grep -q 'trusted-subnets'; }
tn_check "a malformed --trusted-subnets is refused" bad
