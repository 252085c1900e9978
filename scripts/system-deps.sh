#!/usr/bin/env bash
# What Codev needs from the system: Pango for the PDF documents (WeasyPrint), and for the tests
# Debian's Chromium (real-browser tests), gettext (catalogue checks) and, from the npm registry,
# axe-core (accessibility checks in the browser tests, tests/browser/package-lock.json).
# `scripts/system-deps.sh pdf` installs only what the product itself needs (make demo): no npm.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || need+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
if [ "${1:-all}" != pdf ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
  command -v npm >/dev/null 2>&1 || need+=(npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${need[*]} with apt-get…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
  else
    echo "warning: ${need[*]} missing and apt-get unavailable (not root?): PDF downloads or browser tests will not work" >&2
  fi
fi
[ "${1:-all}" = pdf ] && exit 0
# axe-core, pinned by the lock file; installed again only when the lock file changed.
browser=tests/browser
if command -v npm >/dev/null 2>&1; then
  if [ ! -f $browser/node_modules/.package-lock.json ] || [ $browser/package-lock.json -nt $browser/node_modules/.package-lock.json ]; then
    echo "Installing axe-core for the browser tests (npm ci --prefix $browser)…"
    npm ci --prefix $browser --no-audit --no-fund --loglevel=error
  fi
else
  echo "warning: npm missing: the accessibility checks of the browser tests will not run" >&2
fi
