# shellcheck shell=bash
# A local PostgreSQL and throwaway databases in it, for scripts/test and
# scripts/bench-redirect. Source it; it defines functions and PG_ADMIN_URL only.
#
# SHARETRAIL_TEST_PG_ADMIN_URL names a role that may create and drop databases;
# the default is the local server's superuser over TCP with trust auth.

PG_ADMIN_URL=${SHARETRAIL_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

pg__accepting() {
    command -v pg_isready >/dev/null && pg_isready -q -d "$PG_ADMIN_URL"
}

pg__psql() {
    # -X: no ~/.psqlrc; ON_ERROR_STOP: a failed statement fails the script.
    psql -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" "$@"
}

# Makes sure a PostgreSQL server answers at PG_ADMIN_URL. A local one is
# started, or installed from Debian's packages first, as needed.
pg_ensure_running() {
    pg__accepting && return 0

    case "$PG_ADMIN_URL" in
        *@127.0.0.1[:/]* | *@localhost[:/]* | *//127.0.0.1[:/]* | *//localhost[:/]*) ;;
        *)
            echo "PostgreSQL at the admin URL (SHARETRAIL_TEST_PG_ADMIN_URL) is not accepting connections" >&2
            return 1
            ;;
    esac

    local installed_now=""
    if ! compgen -G "/etc/postgresql/*/main" >/dev/null; then
        echo "installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
        installed_now=1
    fi

    local conf version
    for conf in /etc/postgresql/*/main; do
        version=$(basename "$(dirname "$conf")")
        if [ -n "$installed_now" ]; then
            # A fresh Debian cluster asks TCP clients for a password; the tests
            # connect as postgres over TCP, so trust loopback on this new,
            # test-only cluster (the same as the machines this project runs on).
            sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$conf/pg_hba.conf"
        fi
        # Not under systemd here (containers, CI), so start the cluster directly.
        # "Already running" is fine, and a reload picks up the new pg_hba.conf.
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
    done

    local _
    for _ in $(seq 60); do
        pg__accepting && return 0
        sleep 0.5
    done
    echo "PostgreSQL at the admin URL did not start accepting connections" >&2
    return 1
}

# Prints a fresh database name with the given prefix, e.g. sharetrail_test_9f0c2a41d7be.
pg_random_db_name() {
    printf '%s_%s\n' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
}

pg_create_db() {
    pg__psql -c "CREATE DATABASE \"$1\"" >/dev/null
}

pg_drop_db() {
    # FORCE: a test or server that is still connected must not keep it alive.
    pg__psql -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}

# Prints PG_ADMIN_URL with its database swapped for the given one
# (user, password, host, port and query parameters are kept).
pg_url_for() {
    local db=$1 base=${PG_ADMIN_URL%%\?*} query=""
    if [[ "$PG_ADMIN_URL" == *\?* ]]; then
        query="?${PG_ADMIN_URL#*\?}"
    fi
    if [[ "${base#*://}" == */* ]]; then
        base=${base%/*}
    fi
    printf '%s/%s%s\n' "$base" "$db" "$query"
}
