#!/usr/bin/env bash
# The local API against a web page and a local user: a browser's request (Origin, Sec-Fetch
# headers) is refused, even a simple form POST to /connect; a DNS-rebinding Host is refused,
# even for reading /report; a user other than root may read the status but not change the
# router. The CLI and curl from root keep working.
source "$(dirname "$0")/../lib.sh"
tn_setup 2
tn_launch 1 --ipalloc-range "" >/dev/null
api=http://127.0.0.1:6784
code() { tn_exec 1 curl -s -o /dev/null -w '%{http_code}' "$@"; }
targets() { tn_weft 1 status targets; }
tn_check "curl from root reads the report" test "$(code $api/report)" = 200
tn_check "a browser's form POST to /connect is refused (403)" \
    test "$(code -X POST -H 'Origin: http://attacker.example' -d peer=198.18.0.9 $api/connect)" = 403
tn_check "a no-cors fetch (Sec-Fetch headers, no Origin) to /stop is refused" \
    test "$(code -X POST -H 'Sec-Fetch-Mode: no-cors' -H 'Sec-Fetch-Site: cross-site' $api/stop)" = 403
tn_check "a DNS-rebinding Host cannot read /report" test "$(code -H 'Host: rebind.attacker.example:6784' $api/report)" = 403
nobody() { tn_exec 1 setpriv --reuid 65534 --regid 65534 --clear-groups curl -s -o /dev/null -w '%{http_code}' "$@"; }
tn_check "a non-root user reads the status" test "$(nobody $api/status)" = 200
tn_check "a non-root user cannot connect the router anywhere" test "$(nobody -X POST -d peer=198.18.0.9 $api/connect)" = 403
tn_check "a non-root user cannot stop it" test "$(nobody -X POST $api/stop)" = 403
none() { ! targets | grep -q 198.18.0.9; }
tn_check "none of the refused calls reached the router" none
tn_check "the router still runs" tn_weft 1 status
tn_weft 1 connect 198.18.0.9
cli_connected() { targets | grep -q 198.18.0.9; }
tn_check "the CLI (root) still connects" cli_connected
tn_check "and curl from root still changes the router" test "$(code -X POST -d peer=198.18.0.9 $api/forget)" = 200
