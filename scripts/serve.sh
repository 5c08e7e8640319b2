#!/usr/bin/env bash
# The production topology on this machine (called by `make serve`; README "Running in
# production" has the same two command lines):
#   - gunicorn, gthread workers: people, the polled gate, /health, the kill switch;
#   - uvicorn (ASGI, one process): gate event streams, pushed by PostgreSQL NOTIFY.
# Usage: scripts/serve.sh HOST PORT STREAM_PORT. Needs DATABASE_URL (PostgreSQL) and
# DJANGO_SECRET_KEY; with REDIS_URL set (and SERVE_JOBS not 0) a Celery worker and beat
# run too. Migrates and collects static files first. Stops everything on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
host=${1:-127.0.0.1}
port=${2:-8000}
stream_port=${3:-$((port + 1))}
bin=.venv/bin

# The WSGI server sends engines asking it for a stream to the stream server (307).
export OPSPORTAL_GATE_STREAM_URL=${OPSPORTAL_GATE_STREAM_URL:-http://${host}:${stream_port}}

$bin/python manage.py migrate --no-input
$bin/python manage.py collectstatic --no-input --verbosity 0

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM
if [ -n "${REDIS_URL:-}" ] && [ "${SERVE_JOBS:-1}" != 0 ]; then
  $bin/celery -A opsportal worker --loglevel=INFO --concurrency=2 &
  pids+=($!)
  $bin/celery -A opsportal beat --loglevel=INFO &
  pids+=($!)
fi

$bin/gunicorn opsportal.wsgi --bind "${host}:${port}" --worker-class gthread --workers "$(nproc)" --threads 2 &
pids+=($!)
$bin/uvicorn opsportal.asgi:application --host "${host}" --port "${stream_port}" --no-access-log &
pids+=($!)
echo "opsportal: http://${host}:${port}/  gate streams: http://${host}:${stream_port}/"
wait -n
