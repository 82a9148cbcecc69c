#!/usr/bin/env bash
# A long sweep of the deterministic simulator: SEEDS seeds from FROM, each a whole cluster
# (real nodes, real mains, the chaos suite's load and checks) with its own fault schedule on
# simulated time, built in release and spread over every core. Prints seeds/s and every
# failing seed with its schedule; replay one with
#   RINGSHOP_SIM_SEED=<seed> cargo test -p ringshop-tests --test sim replay -- --nocapture
#
#   scripts/sim.sh [SEEDS] [FROM]     defaults 10000 and 0
#
# Exit status 0 when every seed held, non-zero otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:-10000}
from=${2:-0}
die() { echo "sim.sh: $*" >&2; exit 2; }
[[ $seeds =~ ^[0-9]+$ ]] && ((seeds >= 1 && seeds <= 100000000)) ||
  die "SEEDS must be a whole number from 1 to 100000000, e.g. scripts/sim.sh 100000"
[[ $from =~ ^[0-9]+$ ]] && ((${#from} <= 18)) ||
  die "FROM must be a whole number below 10^18, e.g. scripts/sim.sh 1000 5000"

cd "$root"
cargo test --release -p ringshop-tests --test sim --no-run
echo "sim.sh: $seeds seeds from $from" >&2
RINGSHOP_SIM_SEEDS=$seeds RINGSHOP_SIM_FROM=$from \
  cargo test --release -p ringshop-tests --test sim -- --nocapture --exact seeds
