#!/usr/bin/env bash
# Start a ringshop cluster of N nodes on this machine, each in its own terminal window.
#
#   scripts/cluster.sh [N]        build once, start N nodes (default 3) on 127.0.0.1:7001..
#   scripts/cluster.sh add        start one more node (it joins; ids rebalance to it)
#   scripts/cluster.sh status     the nodes this script started, and whether they run
#   scripts/cluster.sh kill NAME  SIGKILL one of them (the others declare it dead in ~2 s)
#   scripts/cluster.sh stop       stop exactly the nodes this script started (by pid)
#
# The nodes share one database, .ringshop/cluster/cluster.db, which is how they find each
# other. With tmux, each node runs in a window of the tmux session "ringshop" (attach with
# `tmux attach -t ringshop`); without it, nodes run in the background, logs in .ringshop/cluster.
# Environment: RINGSHOP_BASE_PORT (default 7001), RINGSHOP_TTL (default 5s), RUST_LOG.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.ringshop/cluster"
session=ringshop
base=${RINGSHOP_BASE_PORT:-7001}
ttl=${RINGSHOP_TTL:-5s}
node_bin="$root/target/release/ringshop-node"
db="$state/cluster.db"

die() { echo "cluster.sh: $*" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A pid file's process, if it is still the node we started (a reused pid is not ours).
our_pid() {
  local name=$1 pid
  [ -f "$state/$name.pid" ] || return 1
  pid=$(cat "$state/$name.pid")
  [ -r "/proc/$pid/cmdline" ] || { kill -0 "$pid" 2>/dev/null || return 1; echo "$pid"; return 0; }
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "ringshop-node --name $name " || return 1
  echo "$pid"
}

names() { [ -d "$state" ] && find "$state" -name '*.pid' -printf '%f\n' | sed 's/\.pid$//' | sort -V; }

# Starts node number $1 (name n$1, port base+$1-1) in a tmux window or the background.
launch() {
  local i=$1 name="n$1" port=$((base + $1 - 1))
  local addr="127.0.0.1:$port"
  listening "$port" && die "port $port is in use; stop what runs there or set RINGSHOP_BASE_PORT"
  local cmd=("$node_bin" --name "$name" --listen "$addr" --ttl "$ttl" --db "$db")
  if [ -f "$state/tmux" ]; then
    tmux new-window -d -t "$session" -n "$name" "exec ${cmd[*]}"
    # Keep a dead node's window, so its last words stay readable.
    tmux set-option -w -t "$session:$name" remain-on-exit on >/dev/null
    tmux display-message -p -t "$session:$name" '#{pane_pid}' >"$state/$name.pid"
  else
    nohup "${cmd[@]}" >"$state/$name.log" 2>&1 &
    echo $! >"$state/$name.pid"
  fi
  local tries=0
  until listening "$port"; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || die "$name did not start listening on $port; see scripts/cluster.sh status"
    sleep 0.1
  done
  echo "$addr" >>"$state/addrs"
  echo "started $name on $addr"
}

start() {
  local n=$1
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ] || die "N must be 1..50, got '$n'"
  [ -z "$(names)" ] || die "a cluster started by this script is still recorded; run: scripts/cluster.sh stop"
  echo "building (release)..."
  (cd "$root" && cargo build --release -q -p ringshop-node -p ringshop-tui)
  mkdir -p "$state"
  rm -f "$state/addrs"
  if command -v tmux >/dev/null && [ -z "${RINGSHOP_NO_TMUX:-}" ]; then
    tmux has-session -t "$session" 2>/dev/null && die "a tmux session '$session' exists; close it first"
    tmux new-session -d -s "$session" -n main -c "$root"
    echo "$session" >"$state/tmux"
  fi
  for i in $(seq 1 "$n"); do launch "$i"; done
  if [ -f "$state/tmux" ]; then
    echo "watch them: tmux attach -t $session   (one window per node; Ctrl-b n for the next)"
  else
    echo "logs: $state/<name>.log"
  fi
  echo "database: $db"
  echo "members: target/release/ringshop cluster --join $base --watch"
  echo "the demo: scripts/demo.sh    one more node: scripts/cluster.sh add    stop: scripts/cluster.sh stop"
}

add() {
  [ -n "$(names)" ] || die "no cluster started by this script; start one with scripts/cluster.sh [N]"
  local last
  last=$(names | sed 's/^n//' | sort -n | tail -n 1)
  launch $((last + 1))
}

status() {
  local any=
  for name in $(names); do
    any=1
    if pid=$(our_pid "$name"); then echo "$name pid $pid running"; else echo "$name not running"; fi
  done
  [ -n "$any" ] || echo "no cluster started by this script"
}

kill_one() {
  local name=${1:-}
  [ -n "$name" ] || die "usage: scripts/cluster.sh kill NAME"
  pid=$(our_pid "$name") || die "$name is not a running node of this cluster (see: scripts/cluster.sh status)"
  kill -KILL "$pid"
  echo "sent SIGKILL to $name (pid $pid)"
}

stop() {
  for name in $(names); do
    if pid=$(our_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
      echo "stopped $name (pid $pid)"
    fi
    rm -f "$state/$name.pid"
  done
  if [ -f "$state/tmux" ]; then
    tmux kill-session -t "$(cat "$state/tmux")" 2>/dev/null || true
    rm -f "$state/tmux"
  fi
  rm -f "$state/addrs"
  echo "(the database $db is kept; delete it to start from nothing)"
}

case "${1:-3}" in
  stop) stop ;;
  status) status ;;
  kill) kill_one "${2:-}" ;;
  add) add ;;
  -h|--help|help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) start "${1:-3}" ;;
esac
