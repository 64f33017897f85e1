#!/usr/bin/env bash
# Every test: installs what is missing, builds, runs the unit tests, then the integration
# scenarios in network namespaces. The last line is the scenarios' `N passed, N failed`.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the scenarios create network namespaces" >&2; exit 1; }
testnet/install-deps.sh
# Every script the README names runs as written (executable), and every script parses.
for script in testnet/*.sh testnet/bench/*.sh; do
    [ -x "$script" ] || { echo "$script is not executable (chmod +x, and git update-index --chmod=+x)"; exit 1; }
done
for script in testnet/*.sh testnet/bench/*.sh testnet/scenarios/*.sh; do
    bash -n "$script" || { echo "$script does not parse"; exit 1; }
done
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|^Building|^Compiling|^Write|^Planning' || true
swift build 2>&1 | tail -n 1
# The unit tests run in a network namespace of their own (with only a loopback): the
# in-process router tests bind their mesh and API there, never in the machine's namespace.
unit_ns="weft-unit-$$"
ip netns add "$unit_ns"
trap 'ip netns del "$unit_ns" 2>/dev/null || true' EXIT
ip -n "$unit_ns" link set lo up
log=$(mktemp)
if ip netns exec "$unit_ns" env WEFT_TEST_NETNS=1 swift test --skip-build >"$log" 2>&1; then
    grep -E '✘|Test run with' "$log" || true
    rm -f "$log"
else
    grep -E '✘|error' "$log" | head -40; tail -20 "$log"; rm -f "$log"
    echo "unit tests failed"; exit 1
fi
ip netns del "$unit_ns"
trap - EXIT
testnet/run-tests.sh
