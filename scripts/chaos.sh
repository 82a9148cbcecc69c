#!/usr/bin/env bash
# A longer chaos run: the chaos suite's schedule (join, graceful leave, SIGKILL, restart under
# the same name, SIGSTOP for 3 s then SIGCONT) repeated for SECONDS on release-built nodes
# under load (following mains, slow mains that do not follow the membership, a fresh main on
# each node that joins), then the table per fault event and the four property results (failed
# calls, two live generations, stale answers after SIGCONT, the books).
#
#   scripts/chaos.sh [SECONDS]     default 120
#
# It builds in release first. The run ends by itself (every step, call and wait in it is
# bounded: about SECONDS plus a minute); its nodes are child processes killed when it ends.
# Exit status 0 when all four properties hold, non-zero otherwise.
# Environment: RINGSHOP_NODE_LOG, the nodes' log filter on stderr (default warn).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-120}
die() { echo "chaos.sh: $*" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds >= 10 && seconds <= 86400)) ||
  die "SECONDS must be a whole number from 10 to 86400, e.g. scripts/chaos.sh 300"

cd "$root"
cargo build --release -p ringshop-node
cargo test --release -p ringshop-tests --test chaos --no-run
echo "chaos.sh: running the schedule in a loop for ${seconds}s" >&2
RINGSHOP_CHAOS_SECONDS=$seconds cargo test --release -p ringshop-tests --test chaos -- \
  --ignored --nocapture the_schedule_repeated_for_ringshop_chaos_seconds
