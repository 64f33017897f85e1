#!/usr/bin/env bash
# Offline password guessing. A router that does not know the mesh's password (host 3, its own
# key, another password) dials h1: h1 answers its header and its key hello (the CPace share,
# which depends on nothing an attacker can test), and once the dialler's features fail to open,
# a frame of random bytes in place of its own (so the dialler can tell a wrong password) and
# nothing else: the side that accepts sends its password-dependent features only once the
# dialler proved the password. The refusals are counted, and after a few failed proofs from
# one address, its connections are refused at once.
source "$(dirname "$0")/../lib.sh"
tn_setup 3
tn_launch_mesh 2 --password right-secret
file="$TN_RUN/guess.pcap"
tn_capture_start tn_exec 1 timeout 12 tcpdump -i eth0 -n -U -w "$file" "tcp src port 6783 and dst host $(tn_ip 3)"
pid=$TN_CAPTURE_PID
WEFT_PASSWORD=a-guess tn_launch 3 "$(tn_ip 1)" >/dev/null
sleep 6
kill $pid 2>/dev/null; wait $pid 2>/dev/null
# Payload bytes h1 sent on each connection to host 3 (by its port).
per_connection() {
    tcpdump -r "$file" -n 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "length") n[$5] += $(i + 1) } END { for (c in n) print n[c] }'
}
only_hello() {
    local sums
    sums=$(per_connection)
    # header (8), key hello (4 + 33), the random refusal (4 + 32)
    [ -n "$sums" ] && ! printf '%s\n' "$sums" | grep -qv '^81$'
}
tn_check "h1 sent the guessing dialler its header, key hello and a random refusal only (81 bytes per connection)" only_hello
auth() { [ "$(tn_counter 1 weft_handshake_failures_total 'reason="auth"')" -ge 1 ]; }
tn_check "h1 counted the failed proofs" auth
limited() { [ "$(tn_counter 1 weft_handshake_failures_total 'reason="rate_limited"' 2>/dev/null || echo 0)" -ge 1 ]; }
tn_check_within 45 "after a few failed proofs from one address, its connections are refused at accept" limited
tn_check "the mesh is intact" tn_full_mesh 2
