#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL + Redis when they answer (always in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${CODEV_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${CODEV_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}

reachable() {  # host port
  "$BIN/python" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

echo "== lint (ruff) =="
"$BIN/ruff" check .

echo "== tests on SQLite, in-memory channel layer =="
env -u DATABASE_URL -u REDIS_URL "$BIN/pytest" "$@"

if reachable 127.0.0.1 5432; then
  extra=()
  if reachable 127.0.0.1 6379; then extra=(REDIS_URL="$REDIS"); fi
  echo "== tests on PostgreSQL ${extra[*]:-(in-memory channel layer)} =="
  env DATABASE_URL="$PG_URL" "${extra[@]}" "$BIN/pytest" "$@"
elif [ "${CODEV_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL is required (CODEV_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 does not answer" >&2
  exit 1
else
  echo "PostgreSQL not reachable on 127.0.0.1:5432: the PostgreSQL pass is skipped."
fi
