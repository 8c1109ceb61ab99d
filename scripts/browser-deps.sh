#!/usr/bin/env bash
# The browser the dashboard tests drive: Debian's Chromium (Playwright cannot download its own
# browsers here). Installed with apt-get when missing and we are root; otherwise we say so and
# the browser tests skip. Usage: bash scripts/browser-deps.sh
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system package: chromium (browser tests of the dashboards)"
  (apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 ||
   { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium >/dev/null; }) ||
   echo "warning: could not install chromium; the browser tests will skip" >&2
else
  echo "warning: please install chromium (apt-get install chromium) for the dashboards' browser tests" >&2
fi
exit 0
