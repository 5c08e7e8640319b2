#!/usr/bin/env bash
# Set up the demo database and serve the portal (called by `make run`).
# With REDIS_URL set, a Celery worker and beat run beside the web server and stop with it.
set -euo pipefail
cd "$(dirname "$0")/.."
host=${1:-127.0.0.1}
port=${2:-8000}
py=.venv/bin/python

# This checkout's .env (debug on, a generated secret key; git-ignored): manage.py reads
# it, so the commands the docs show work in any shell (opsportal/local_env.py).
$py -m opsportal.local_env

$py manage.py migrate --no-input
$py manage.py load_procedures
$py manage.py seed_demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -n "${REDIS_URL:-}" ]; then
  .venv/bin/celery -A opsportal worker --loglevel=INFO --concurrency=2 &
  pids+=($!)
  .venv/bin/celery -A opsportal beat --loglevel=INFO &
  pids+=($!)
fi

echo "opsportal: http://${host}:${port}/  (demo logins in README.md; password: \$OPSPORTAL_DEMO_PASSWORD, default opsportal-demo)"
$py manage.py runserver "${host}:${port}"
