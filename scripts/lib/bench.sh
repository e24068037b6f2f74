# shellcheck shell=bash
# What the benchmark scripts share: a work directory, the processes and databases they start
# (all undone on exit, however it exits), stopping a server, and checking one still runs.
# Source it after scripts/lib/postgres.sh, with BENCH_NAME set to the script's name.

step() { printf '\n==> %s\n' "$*"; }
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# Everything this run starts or makes is undone on exit, however it exits.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sharetrail-bench.XXXXXX")
PIDS=()
DBS=()
cleanup() {
    local pid db
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    for db in "${DBS[@]}"; do
        pg_drop_db "$db" || echo "warning: could not drop database $db" >&2
    done
    if [ -n "${SHARETRAIL_BENCH_KEEP:-}" ]; then
        echo "kept logs and wrk output in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops a server with SIGTERM (sharetrail drains its visit queue then) and
# sets STOPPED_IN to how long it took to exit; after 10 s it is killed.
# Not run in a subshell: only this shell can reap its children.
STOPPED_IN=""
stop() {
    local pid=$1 start end
    start=$(date +%s%N)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
        # A child that exited but is not yet reaped is a zombie: "Z" in stat.
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    end=$(date +%s%N)
    if kill -0 "$pid" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
        kill -KILL "$pid" 2>/dev/null || true
        STOPPED_IN="over 10 s, killed"
    else
        STOPPED_IN=$(awk -v ns="$((end - start))" 'BEGIN { printf "%.2f s", ns / 1e9 }')
    fi
    wait "$pid" 2>/dev/null || true
}

# Fails, showing the end of its log, if a server we started has exited.
require_alive() {
    local pid=$1 log=$2
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "$BENCH_NAME: the server logging to $log has exited; its last lines:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
}


# Builds sharetrail and the bare actix baseline, sets SHARETRAIL and BASELINE to them, and
# installs wrk if it is missing. SHARETRAIL_BENCH_BINARY names another sharetrail binary to
# measure instead (an earlier commit's, say), against the same baseline.
build_release_binaries() {
    step "build (release)"
    # Two builds: an example also builds the dev-dependencies, whose features could
    # change sharetrail's dependencies; this way the binary measured is the one
    # `cargo build --release --bin sharetrail` (and the Dockerfile) ships.
    cargo build --release --locked --bin sharetrail
    cargo build --release --locked --example baseline_redirect
    local target_dir
    target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    SHARETRAIL=${SHARETRAIL_BENCH_BINARY:-$target_dir/release/sharetrail}
    BASELINE=$target_dir/release/examples/baseline_redirect
    if ! command -v wrk >/dev/null; then
        echo "installing wrk"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
}

# fresh_database BACKEND DIR: sets DB_URL to an empty database of BACKEND, under DIR for SQLite.
fresh_database() {
    local backend=$1 dir=$2 db
    case "$backend" in
        sqlite) DB_URL="sqlite://$dir/sharetrail.db" ;;
        postgres)
            pg_ensure_running
            db=$(pg_random_db_name sharetrail_bench)
            DBS+=("$db")
            pg_create_db "$db"
            DB_URL=$(pg_url_for "$db")
            ;;
    esac
}

# start_sharetrail BACKEND DIR [ENV=VALUE ...]: runs sharetrail on a fresh database of BACKEND
# on a free port, logging to DIR/server.log, with any extra settings given; sets DB_URL, BASE
# (its origin), KEY (an API key) and SERVER (its pid).
start_sharetrail() {
    local backend=$1 dir=$2 port
    shift 2
    fresh_database "$backend" "$dir"
    port=$("${HELPER[@]}" free-port)
    BASE="http://127.0.0.1:$port"
    export SHARETRAIL_DATABASE_URL="$DB_URL" SHARETRAIL_LISTEN="127.0.0.1:$port" SHARETRAIL_BASE_URL="$BASE"
    "$SHARETRAIL" migrate >>"$dir/cli.log" 2>&1 || { cat "$dir/cli.log" >&2; die "migrate failed"; }
    # The key is printed alone on a line: take the last non-empty line of stdout.
    KEY=$("$SHARETRAIL" api-key create --name bench 2>>"$dir/cli.log" | awk 'NF { k = $0 } END { print k }')
    [ -n "$KEY" ] || { cat "$dir/cli.log" >&2; die "api-key create printed no key"; }
    env "$@" "$SHARETRAIL" serve >"$dir/server.log" 2>&1 &
    SERVER=$!
    PIDS+=("$SERVER")
    "${HELPER[@]}" wait "$BASE/healthz" 200 30 "$SERVER" || { tail -n 20 "$dir/server.log" >&2; exit 1; }
}
