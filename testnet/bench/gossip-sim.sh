#!/usr/bin/env bash
# Benchmark: the in-process gossip simulation (pure topology, gossip and route logic over an
# in-memory transport). Prints a markdown table: rounds, messages and bytes to form the mesh,
# and the median cost of one change (a connection going down or coming up) once converged.
#   testnet/bench/gossip-sim.sh [N...]     (default: 100 1000)
set -eu
cd "$(dirname "$0")/../.."
swift build -c release --product weft-gossip-sim >/dev/null
exec .build/release/weft-gossip-sim "$@"
