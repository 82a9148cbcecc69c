#!/usr/bin/env bash
# Run the demo cycle against the cluster started by scripts/cluster.sh.
#   scripts/demo.sh [ringshop demo flags...]     e.g. scripts/demo.sh --json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
addrs_file="$root/.ringshop/cluster/addrs"
[ -f "$addrs_file" ] || { echo "demo.sh: no cluster is running; start one with scripts/cluster.sh" >&2; exit 3; }
(cd "$root" && cargo build --release -q -p ringshop-tui)
exec "$root/target/release/ringshop" demo --nodes "$(paste -sd, "$addrs_file")" "$@"
