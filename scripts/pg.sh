# Sourced by scripts/test: start_postgres / stop_postgres for a throwaway cluster.
# For development: `source scripts/pg.sh && start_postgres` exports WINDCORE_TEST_DATABASE_URL.

start_postgres() {
    # A throwaway PostgreSQL cluster for the tests, unless one is given.
    if [ -n "${WINDCORE_TEST_DATABASE_URL:-}" ]; then
        echo "using WINDCORE_TEST_DATABASE_URL"
        return
    fi
    local bindir=""
    if command -v initdb >/dev/null 2>&1; then
        bindir=$(dirname "$(command -v initdb)")
    else
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    fi
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "PostgreSQL server binaries not found: installing them"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
        bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    PGTMP=$(mktemp -d /tmp/windcore-pg.XXXXXX)
    local pw port as=()
    pw=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$pw" > "$PGTMP/pw"
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses to run as root: run the cluster as the postgres user.
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown -R postgres "$PGTMP"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bindir/initdb" -D "$PGTMP/data" -U postgres --pwfile="$PGTMP/pw" \
        --auth=scram-sha-256 --no-sync >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log"; exit 1; }
    "${as[@]}" "$bindir/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 \
        -o "-p $port -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >/dev/null
    PG_STOP=("${as[@]}" "$bindir/pg_ctl" -D "$PGTMP/data" -m fast -w stop)
    export WINDCORE_TEST_DATABASE_URL="postgres://postgres:$pw@127.0.0.1:$port/postgres"
    export WINDCORE_TEST_PG_BIN="$bindir"
    echo "throwaway PostgreSQL on 127.0.0.1:$port (data in $PGTMP)"
}

stop_postgres() {
    if [ -n "${PGTMP:-}" ]; then
        "${PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$PGTMP"
    fi
}

