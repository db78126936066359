# shellcheck shell=bash
# Sourced by .ci/run: make a PostgreSQL server available to the tests and export
#   MIGRATE_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/migrate_test
#
# - A server already named by MIGRATE_TEST_PG_URL that answers is used as it is.
# - Otherwise Debian's `postgresql` package is installed if initdb is missing, and a throw-away
#   cluster is started in a temporary folder on a free loopback port (trust auth, fsync off:
#   it is a test server), then stopped and removed when the calling shell exits.
# Sourcing it twice is harmless: the second time finds the first server answering.

_migrate_pg_answers() {  # host port → 0 when something accepts TCP connections there
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

_migrate_pg_url_answers() {
    local rest host port
    rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"
    host="${rest%%:*}"; port="${rest##*:}"
    [ "$port" = "$rest" ] && port=5432
    _migrate_pg_answers "$host" "$port"
}

_migrate_pg_bindir() {
    local found
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

_migrate_pg_stop() {
    if [ -n "${_MIGRATE_PG_DIR:-}" ] && [ -d "$_MIGRATE_PG_DIR" ]; then
        $_MIGRATE_PG_AS "$_MIGRATE_PG_BIN/pg_ctl" -D "$_MIGRATE_PG_DIR/data" -m fast -w stop \
            >/dev/null 2>&1 || true
        rm -rf "$_MIGRATE_PG_DIR"
    fi
    _MIGRATE_PG_DIR=""
}

_migrate_pg_start() {
    local bin as dir port sudo=""
    if [ -n "${MIGRATE_TEST_PG_URL:-}" ] && _migrate_pg_url_answers "$MIGRATE_TEST_PG_URL"; then
        echo "postgres.sh: using the server at MIGRATE_TEST_PG_URL" >&2
        return 0
    fi
    bin="$(_migrate_pg_bindir || true)"
    if [ -z "$bin" ]; then
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "postgres.sh: installing Debian's postgresql package" >&2
        $sudo apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
        bin="$(_migrate_pg_bindir)"
    fi
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    as=""
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        as="runuser -u postgres --"
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/migrate-pg.XXXXXX")"
    chmod 700 "$dir"
    [ -n "$as" ] && chown postgres: "$dir"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    _MIGRATE_PG_DIR="$dir" _MIGRATE_PG_BIN="$bin" _MIGRATE_PG_AS="$as"
    trap _migrate_pg_stop EXIT
    $as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    $as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
    $as "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres migrate_test
    export MIGRATE_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/migrate_test"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
}

_migrate_pg_start
