#!/usr/bin/env bash
# The system libraries PDF reports need (docs/reports.md): WeasyPrint lays out PDFs
# with Debian's Pango and HarfBuzz (font subsetting), in the DejaVu fonts the report
# CSS names. Installs what is missing with apt-get (needs root); safe to run again.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-report-deps: installing ${missing[*]} for PDF reports"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
