#!/usr/bin/env bash
# Installs what the browser tests (tests/browser) need: Debian's Chromium at /usr/bin/chromium.
#
# - Chromium already there: does nothing.
# - Root on Debian/Ubuntu: apt-get update, then apt-get install chromium.
# - Otherwise (not root, no apt-get): installs nothing and says so; the browser tests then
#   skip with one reason ("Chromium not found at /usr/bin/chromium ...").
# Playwright itself is a Python package of the dev extra; its own browser download
# (`playwright install`) is not used.
set -euo pipefail

CHROMIUM="${BROWSER_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser: $CHROMIUM is missing and this is not root: the browser tests will be skipped" \
         "(as root: apt-get install chromium)" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: no apt-get here to install Chromium: the browser tests will be skipped" >&2
    exit 0
fi

echo "install_browser: installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q chromium
"$CHROMIUM" --version
