#!/usr/bin/env bash
# Runs every integration scenario under testnet/scenarios (or those named as arguments), each in
# its own namespaces, and prints one line per scenario and `N passed, N failed` last.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(testnet/scenarios/*.sh)
passed=0; failed=0; failures=()
for s in "${scenarios[@]}"; do
    name=$(basename "$s" .sh)
    start=$SECONDS
    log="/tmp/weft-scenario-$name.log"
    if timeout --foreground 300 bash "$s" >"$log" 2>&1; then
        passed=$((passed + 1)); echo "PASS $name ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name ($((SECONDS - start)) s)"
        grep -B12 -E '^FAIL' "$log" | grep -Ev '^--- |^    ->|^    <-' | sed 's/^/    /'
        sed 's/^/    /' "$log" | tail -n 60
    fi
done
[ $failed -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
