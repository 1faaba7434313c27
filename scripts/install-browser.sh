#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (Playwright drives it through
# executable_path; nothing is downloaded by Playwright itself). Prints the browser's path.
#
#   scripts/install-browser.sh      # install with apt-get if missing, print /usr/bin/chromium
set -euo pipefail
BROWSER="${PAPI_BOT_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$BROWSER" ]; then
    echo "installing chromium (apt-get)..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core >&2
fi
"$BROWSER" --version >&2 || true
echo "$BROWSER"
