#!/usr/bin/env bash
# Every test: installs what is missing, builds, runs the unit tests, then the integration
# scenarios in network namespaces. The last line is the scenarios' `N passed, N failed`.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the scenarios create network namespaces" >&2; exit 1; }
testnet/install-deps.sh
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|^Building|^Compiling|^Write|^Planning' || true
swift build 2>&1 | tail -n 1
swift test --skip-build 2>&1 | grep -E '✘|error|Test run with|Executed' || true
swift test --skip-build >/dev/null 2>&1 || { echo "unit tests failed"; swift test --skip-build 2>&1 | tail -40; exit 1; }
testnet/run-tests.sh
