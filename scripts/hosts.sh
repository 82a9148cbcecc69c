#!/usr/bin/env bash
# Test hosts on this machine: network namespaces joined to one bridge, a throwaway PostgreSQL
# in a namespace of its own, and one ringshop node per host speaking mutual TLS. Every address
# used here (10.77.0.0/24 by default) exists only inside the namespaces this script makes.
#
#   scripts/hosts.sh up [N] [--no-nodes]
#                                    N hosts (default 3): rs-h1..rs-hN at 10.77.0.11.., a node
#                                    on each (--listen 0.0.0.0:7000 --advertise HOST_IP:7000),
#                                    PostgreSQL in rs-pg at 10.77.0.2, a client namespace
#                                    rs-client at 10.77.0.9, certs in $RINGSHOP_HOSTS/certs.
#                                    --no-nodes: the hosts and PostgreSQL only (the tests start
#                                    their own nodes)
#   scripts/hosts.sh exec NAME CMD   run CMD inside host NAME (h1, client, pg, ...)
#   scripts/hosts.sh main [ARGS]     the ringshop main (TUI or a verb) in rs-client, joined to
#                                    the hosts with the client certificate
#   scripts/hosts.sh partition NAME  take host NAME's link down (it reaches no one, no one it)
#   scripts/hosts.sh heal NAME       bring it back
#   scripts/hosts.sh cut A B         cut only the path between A and B (e.g. client h2): each
#                                    drops what it sends the other (a blackhole route); both
#                                    still reach everyone else
#   scripts/hosts.sh mend A B        restore it
#   scripts/hosts.sh stop NAME       SIGKILL host NAME's node;  start NAME: start it again
#   scripts/hosts.sh status          namespaces, links and node pids
#   scripts/hosts.sh down            stop everything this script started and remove it all
#
# Needs root, iproute2 (`ip netns`) and PostgreSQL's server binaries (initdb, pg_ctl); as root
# with apt-get it installs the postgresql package when they are missing. State (logs, pids, the
# database, certs) lives in $RINGSHOP_HOSTS (default /tmp/ringshop-hosts). Two sets of hosts
# can live side by side with different $RINGSHOP_HOSTS_PREFIX (default rs, at most 3
# characters) and $RINGSHOP_HOSTS_NET (default 10.77.0); the tests use rt and 10.78.0.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${RINGSHOP_HOSTS:-/tmp/ringshop-hosts}"
P="${RINGSHOP_HOSTS_PREFIX:-rs}"
NET="${RINGSHOP_HOSTS_NET:-10.77.0}"
BRIDGE="${P}br0"
PG_ADDR="$NET.2"
CLIENT_ADDR="$NET.9"
PORT=7000
NODE_BIN="${RINGSHOP_NODE_BIN:-$ROOT/target/release/ringshop-node}"
MAIN_BIN="${RINGSHOP_MAIN_BIN:-$ROOT/target/release/ringshop}"

say() { echo "hosts: $*" >&2; }
die() { say "$*"; exit 1; }

[[ "$P" =~ ^[a-z][a-z0-9]{0,2}$ ]] || die "RINGSHOP_HOSTS_PREFIX is 1 to 3 lowercase letters or digits"
[[ "$NET" =~ ^10\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "RINGSHOP_HOSTS_NET is 10.X.Y (a private /24)"

need_root() {
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces); run with sudo"
    command -v ip >/dev/null || die "needs iproute2's ip (apt-get install iproute2)"
}

host_addr() { # h3 -> 10.77.0.13
    local n="${1#h}"
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ] || die "no such host: $1 (hosts are h1, h2, ...)"
    echo "$NET.$((10 + n))"
}

# The namespace of NAME: h1, client, pg.
ns() {
    case "$1" in
        client | pg) echo "$P-$1" ;;
        h*) host_addr "$1" >/dev/null && echo "$P-$1" ;;
        *) die "no such host: $1 (h1, h2, ..., client, pg)" ;;
    esac
}

pg_bin() {
    local dir
    local found; found="$(readlink -f "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")"
    for dir in "$(dirname "$found")" /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/createdb" ]; then echo "$dir"; return 0; fi
    done
    return 1
}

ensure_pg() {
    if ! pg_bin >/dev/null; then
        command -v apt-get >/dev/null || die "PostgreSQL's server binaries are missing and there is no apt-get; install postgresql"
        say "installing postgresql (Debian's package)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
        pg_bin >/dev/null || die "installed postgresql but found no initdb/pg_ctl"
    fi
    id postgres >/dev/null 2>&1 || die "no postgres user to run the server as (PostgreSQL refuses root)"
}

ensure_bins() {
    if [ ! -x "$NODE_BIN" ] || [ ! -x "$MAIN_BIN" ]; then
        say "building the release binaries (once)"
        (cd "$ROOT" && cargo build --release -q -p ringshop-node -p ringshop-tui)
    fi
}

# A namespace for NAME with address ADDR on the bridge: its end of the cable is $P-NAME-v
# inside it, the bridge's end $P-NAME-p.
add_ns() {
    local name="$1" addr="$2" space; space="$(ns "$1")"
    ip netns add "$space"
    ip link add "$P-$name-v" type veth peer name "$P-$name-p"
    ip link set "$P-$name-p" master "$BRIDGE"
    ip link set "$P-$name-p" up
    ip link set "$P-$name-v" netns "$space"
    ip -n "$space" addr add "$addr/24" dev "$P-$name-v"
    ip -n "$space" link set "$P-$name-v" up
    ip -n "$space" link set lo up
}

start_pg() {
    local bin; bin="$(pg_bin)"
    local data="$STATE/pg"
    mkdir -p "$data"
    chown postgres "$data"
    chmod 700 "$data"
    # initdb and the server refuse to run as root.
    runuser -u postgres -- "$bin/initdb" -D "$data" -A trust -U ringshop >"$STATE/pg-initdb.log" 2>&1 \
        || die "initdb failed; see $STATE/pg-initdb.log"
    echo "host all all $NET.0/24 trust" >>"$data/pg_hba.conf"
    ip netns exec "$P-pg" runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-c listen_addresses=$PG_ADDR -c port=5432 -c unix_socket_directories=$data -c max_connections=300 -c fsync=off" \
        start >/dev/null || die "PostgreSQL did not start; see $data/server.log"
    ip netns exec "$P-pg" runuser -u postgres -- "$bin/createdb" -h "$data" -U ringshop ringshop \
        || die "createdb failed"
}

make_certs() {
    local dir="$STATE/certs" n="$1" i
    mkdir -p "$dir"
    "$NODE_BIN" certs init "$dir" >/dev/null
    for i in $(seq 1 "$n"); do
        "$NODE_BIN" certs node --certs "$dir" "h$i" "$(host_addr "h$i")" >/dev/null
    done
    "$NODE_BIN" certs client --certs "$dir" main >/dev/null
}

db_url() { echo "postgres://ringshop@$PG_ADDR:5432/ringshop"; }

start_node() {
    local name="$1" addr; addr="$(host_addr "$name")"
    ip netns exec "$(ns "$name")" "$NODE_BIN" --name "$name" --listen "0.0.0.0:$PORT" \
        --advertise "$addr:$PORT" --db "$(db_url)" --certs "$STATE/certs" ${RINGSHOP_NODE_ARGS:-} \
        >>"$STATE/$name.log" 2>&1 &
    echo $! >"$STATE/$name.pid"
}

stop_node() {
    local pid
    pid="$(cat "$STATE/$1.pid" 2>/dev/null || true)"
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$STATE/$1.pid"
}

wait_nodes() {
    local n="$1" i deadline=$((SECONDS + 30))
    for i in $(seq 1 "$n"); do
        until grep -q "listening on" "$STATE/h$i.log" 2>/dev/null; do
            [ $SECONDS -lt $deadline ] || die "node h$i did not start; see $STATE/h$i.log"
            sleep 0.2
        done
    done
}

seeds() {
    local n; n="$(cat "$STATE/hosts")"
    local out="" i
    for i in $(seq 1 "$n"); do out="$out${out:+,}$(host_addr "h$i"):$PORT"; done
    echo "$out"
}

up() {
    local n=3 nodes=1 arg
    for arg in "$@"; do
        case "$arg" in
            --no-nodes) nodes=0 ;;
            *) n="$arg" ;;
        esac
    done
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ] || die "up N: N is 1 to 50"
    need_root
    [ ! -e "$STATE/hosts" ] || die "already up in $STATE (scripts/hosts.sh down first)"
    ! ip link show "$BRIDGE" >/dev/null 2>&1 || die "$BRIDGE exists: hosts with prefix $P are up elsewhere (down them first)"
    ensure_pg
    if [ "$nodes" = 1 ]; then ensure_bins; fi
    mkdir -p "$STATE"
    # PostgreSQL runs as the postgres user and keeps its data in here.
    chmod 755 "$STATE"
    ip link add "$BRIDGE" type bridge
    ip link set "$BRIDGE" up
    echo "$n" >"$STATE/hosts"
    add_ns pg "$PG_ADDR"
    add_ns client "$CLIENT_ADDR"
    local i
    for i in $(seq 1 "$n"); do add_ns "h$i" "$(host_addr "h$i")"; done
    start_pg
    if [ "$nodes" = 1 ]; then
        make_certs "$n"
        for i in $(seq 1 "$n"); do start_node "h$i"; done
        wait_nodes "$n"
        say "up: $n hosts ($(seeds)), PostgreSQL at $(db_url), certs in $STATE/certs"
        say "try: scripts/hosts.sh main cluster"
    else
        say "up: $n hosts ($NET.11..), no nodes, PostgreSQL at $(db_url)"
    fi
}

down() {
    need_root
    local f space bin
    for f in "$STATE"/h*.pid; do [ -e "$f" ] && stop_node "$(basename "$f" .pid)"; done
    if [ -d "$STATE/pg" ] && bin="$(pg_bin)" && ip netns list | grep -q "^$P-pg\b"; then
        ip netns exec "$P-pg" runuser -u postgres -- "$bin/pg_ctl" -D "$STATE/pg" -m immediate stop >/dev/null 2>&1 || true
    fi
    for space in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
        # Whatever still runs in there (a node a test started, a server whose folder is gone).
        ip netns pids "$space" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$space"
    done
    for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$P-" || true); do
        ip link del "$link" 2>/dev/null || true
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    rm -rf "$STATE/pg" "$STATE/certs" "$STATE/hosts" "$STATE"/h*.log "$STATE/pg-initdb.log"
    rmdir "$STATE" 2>/dev/null || true
    say "down"
}

# The address of NAME on the bridge: a host's, the client's or PostgreSQL's.
addr_of() {
    case "$1" in
        client) echo "$CLIENT_ADDR" ;;
        pg) echo "$PG_ADDR" ;;
        *) host_addr "$1" ;;
    esac
}

# Cuts (add) or mends (del) the path between A and B only: a blackhole route to the other in
# each of the two namespaces.
path() {
    local op="$1" a="$2" b="$3"
    ip -n "$(ns "$a")" route "$op" blackhole "$(addr_of "$b")/32"
    ip -n "$(ns "$b")" route "$op" blackhole "$(addr_of "$a")/32"
}

# Takes NAME's end of its cable down (or up): run from any namespace, as `ip -n` names it.
link() {
    local space; space="$(ns "$1")"
    ip -n "$space" link set "$P-$1-v" "$2"
    if [ "$2" = up ]; then
        # Bringing a link up restores its address's route; wait until it is there.
        local tries=0
        until ip -n "$space" route show dev "$P-$1-v" | grep -q "$NET.0/24"; do
            tries=$((tries + 1)); [ $tries -lt 50 ] || die "no route on $1 after heal"; sleep 0.1
        done
    fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
    up) up "$@" ;;
    down) down ;;
    exec)
        need_root
        [ $# -ge 2 ] || die "exec NAME CMD..."
        name="$1"; shift
        exec ip netns exec "$(ns "$name")" "$@" ;;
    main)
        need_root
        exec ip netns exec "$P-client" "$MAIN_BIN" --nodes "$(seeds)" --certs "$STATE/certs" "$@" ;;
    partition) need_root; link "${1:?partition NAME}" down; say "partitioned $1" ;;
    heal) need_root; link "${1:?heal NAME}" up; say "healed $1" ;;
    cut) need_root; path add "${1:?cut A B}" "${2:?cut A B}"; say "cut $1 from $2" ;;
    mend) need_root; path del "${1:?mend A B}" "${2:?mend A B}"; say "mended $1 and $2" ;;
    stop) need_root; stop_node "${1:?stop NAME}"; say "killed $1's node" ;;
    start) need_root; start_node "${1:?start NAME}"; say "started $1's node" ;;
    status)
        ip netns list | grep "^$P-" || echo "no hosts"
        for f in "$STATE"/h*.pid; do [ -e "$f" ] && echo "$(basename "$f" .pid) pid $(cat "$f")"; done
        for space in $(ip netns list | awk '{print $1}' | grep "^$P-h" || true); do
            ip -n "$space" -o link show | awk -v s="$space" '/-v@/ {print s, $2, $9}'
        done ;;
    *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
