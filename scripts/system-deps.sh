#!/usr/bin/env bash
# What Codev needs from the system: Pango for the PDF documents (WeasyPrint), and for the tests
# Debian's Chromium (real-browser tests) and gettext (catalogue checks).
# `scripts/system-deps.sh pdf` installs only what the product itself needs (make demo).
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || need+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
if [ "${1:-all}" != pdf ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} with apt-get…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
else
  echo "warning: ${need[*]} missing and apt-get unavailable (not root?): PDF downloads or browser tests will not work" >&2
fi
