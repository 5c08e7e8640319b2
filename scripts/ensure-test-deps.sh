#!/usr/bin/env bash
# Make sure what the test suite talks to is present and running on this machine:
# PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, and Debian's Chromium at
# /usr/bin/chromium for the browser tests. Installs or starts what is missing
# (needs root for apt-get); prints what it did. Never downloads a browser build.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ensure-test-deps: installing PostgreSQL"; apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "ensure-test-deps: starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-test-deps: installing Redis"; apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "ensure-test-deps: starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
echo "redis: $(redis-cli -h 127.0.0.1 -p 6379 ping)"

# PDF reports: Pango, HarfBuzz and fonts for WeasyPrint.
"$(dirname "$0")/ensure-report-deps.sh"

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-test-deps: installing Chromium from Debian's packages"; apt_install chromium
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
