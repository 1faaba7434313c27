#!/usr/bin/env bash
# LibreOffice (headless Writer) for the test that renders the DOCX report to PDF and checks
# its layout (page count, the national motto on one line).
#
#   scripts/libreoffice-for-tests.sh     # install if needed, print the soffice path
#
# Installs Debian's `libreoffice-writer-nogui` with apt-get when no soffice is found (as
# root, or with sudo). Everything else goes to stderr: stdout is only the path.
set -euo pipefail

find_soffice() { command -v soffice || command -v libreoffice || true; }

SOFFICE="$(find_soffice)"
if [ -z "$SOFFICE" ]; then
    echo "installing libreoffice-writer-nogui (apt-get)..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        libreoffice-writer-nogui fonts-liberation >&2
    SOFFICE="$(find_soffice)"
fi
[ -n "$SOFFICE" ] || { echo "soffice not found after installing" >&2; exit 1; }
echo "$SOFFICE"
