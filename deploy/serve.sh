#!/usr/bin/env bash
# The production layout on this machine (`make serve-prod`): nginx on $PORT in front of $WORKERS
# uvicorn workers on loopback ports $PORT+1…, sharing PostgreSQL ($DATABASE_URL) and Redis ($REDIS_URL).
# Without nginx installed, `uvicorn --workers` serves $PORT itself (the kernel spreads connections).
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WORKERS=${WORKERS:-2}
: "${DATABASE_URL:?set DATABASE_URL=postgres://user@host:5432/codev}"
: "${REDIS_URL:?set REDIS_URL=redis://host:6379/0 (several workers share events through Redis)}"
export DATABASE_URL REDIS_URL
export DATABASE_POOL=${DATABASE_POOL:-1}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
RUN=${CODEV_RUN_DIR:-var/run}
mkdir -p "$RUN"

case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "serve-prod runs on PostgreSQL: DATABASE_URL=$DATABASE_URL is not postgres://" >&2; exit 2 ;;
esac

# The database itself, on first run (the server's role needs CREATEDB; otherwise create it by hand).
"$BIN/python" - <<'PY'
import os
from urllib.parse import urlsplit, urlunsplit
import psycopg
url = os.environ["DATABASE_URL"]
parts = urlsplit(url)
name = parts.path.lstrip("/")
try:
    psycopg.connect(url, connect_timeout=5).close()
except psycopg.OperationalError as error:
    if f'"{name}" does not exist' not in str(error):
        raise SystemExit(f"PostgreSQL does not answer at {parts.hostname}:{parts.port}: {error}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True, connect_timeout=5) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    print(f"created database {name}")
PY
"$BIN/python" manage.py migrate --noinput -v0

UVICORN=("$BIN/uvicorn" codev.asgi:application --no-access-log --proxy-headers --forwarded-allow-ips 127.0.0.1
         --backlog 4096 --ws-per-message-deflate false)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait || true
}
trap cleanup EXIT INT TERM

if ! command -v nginx >/dev/null 2>&1; then
  echo "nginx not found (apt-get install nginx-light): uvicorn --workers $WORKERS serves http://$HOST:$PORT itself"
  "${UVICORN[@]}" --host "$HOST" --port "$PORT" --workers "$WORKERS" &
  pids+=($!)
  wait
  exit
fi

upstream=""
for i in $(seq 1 "$WORKERS"); do
  port=$((PORT + i))
  "${UVICORN[@]}" --host 127.0.0.1 --port "$port" &
  pids+=($!)
  upstream+="        server 127.0.0.1:$port;\\n"  # sed turns \n into a newline
done
prefix=$(cd "$RUN" && pwd)
mkdir -p "$prefix/logs" "$prefix/tmp"
sed -e "s|@UPSTREAM@|$upstream|" -e "s|@LISTEN@|$HOST:$PORT|" -e "s|@PREFIX@|$prefix|g" \
  deploy/nginx-local.conf.in > "$prefix/nginx.conf"
echo "nginx on http://$HOST:$PORT → $WORKERS uvicorn workers on ports $((PORT + 1))–$((PORT + WORKERS)); Ctrl-C stops all"
nginx -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait -n
