#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite, listening on 127.0.0.1 only.
#
#   scripts/postgres-for-tests.sh          # install if needed, start, print the URL
#   scripts/postgres-for-tests.sh stop     # stop it
#
# Then: PAPI_BOT_TEST_POSTGRES_URL=$(scripts/postgres-for-tests.sh) .venv/bin/pytest -m postgres
# Installs Debian's `postgresql` package with apt-get when no server binaries are found.
# Everything else goes to stderr: stdout is only the URL.
set -euo pipefail

PORT="${PAPI_BOT_PG_PORT:-54329}"
BASE="${PAPI_BOT_PG_DIR:-/tmp/papi-bot-postgres}"
DB="papi_bot_test"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
    echo "installing postgresql (apt-get)..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
    BIN="$(find_bin)"
fi

# The server refuses to run as root: run it as the `postgres` system user then.
AS=()
if [ "$(id -u)" -eq 0 ]; then
    AS=(runuser -u postgres --)
fi

mkdir -p "$BASE"
[ "$(id -u)" -eq 0 ] && chown postgres: "$BASE"

if [ "${1:-start}" = "stop" ]; then
    "${AS[@]}" "$BIN/pg_ctl" -D "$BASE/data" -m fast stop >&2 || true
    exit 0
fi

if [ ! -f "$BASE/data/PG_VERSION" ]; then
    "${AS[@]}" "$BIN/initdb" -D "$BASE/data" -U postgres -A trust -E UTF8 --no-sync >&2
fi
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$BASE/data" status >/dev/null 2>&1; then
    "${AS[@]}" "$BIN/pg_ctl" -D "$BASE/data" -l "$BASE/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE -c fsync=off" start >&2
fi
if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
