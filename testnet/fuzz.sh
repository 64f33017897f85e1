#!/usr/bin/env bash
# Runs the libFuzzer target over the mesh, IPAM, sleeve and DNS decoders for a fixed budget (default 60 s), with
# AddressSanitizer. Crashing inputs land in Fuzz/crashes/ (kept out of git).
#   testnet/fuzz.sh [SECONDS]
set -euo pipefail  # a failed build must not run an old binary
cd "$(dirname "$0")/../Fuzz"
seconds=${1:-60}
# SwiftPM gives -sanitize=fuzzer to the root package's targets only; the decoders live in the
# main package (a dependency here), so coverage instrumentation is asked for explicitly.
swift build -c release --sanitize=fuzzer --sanitize=address \
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    --product FuzzMeshDecoders 2>&1 | tail -n 1
mkdir -p corpus crashes
# Seeds: a valid header followed by framed messages.
printf 'WEFT\001\001\000\000\000\000\000\001\000' > corpus/seed-header
SWIFT_BACKTRACE=enable=no exec .build/release/FuzzMeshDecoders corpus -max_total_time="$seconds" -artifact_prefix=crashes/ -print_final_stats=1
