#!/usr/bin/env bash
# Install papi-bot with its dev tools into a fresh virtual environment and run every check:
# ruff (lint + format), mypy, pytest. VENV may name another folder (CI uses a fresh one).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV="${VENV:-.venv-test}"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy" .
"$VENV/bin/lint-imports"  # the floors: bot > handlers > storage > kernel (pyproject.toml)
# PostgreSQL: the same code on another database.url. Started here when it can be (Debian,
# root or sudo: CI); elsewhere the PostgreSQL tests say why they did not run.
if [ -z "${PAPI_BOT_TEST_POSTGRES_URL:-}" ] && [ "${PAPI_BOT_NO_POSTGRES:-}" != 1 ]; then
  if url=$(bash scripts/postgres-for-tests.sh 2>/tmp/papi-bot-postgres.log); then
    export PAPI_BOT_TEST_POSTGRES_URL="$url"
    trap 'bash scripts/postgres-for-tests.sh stop 2>/dev/null || true' EXIT
  elif [ "${PAPI_BOT_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "PostgreSQL is required here but could not be started:" >&2
    cat /tmp/papi-bot-postgres.log >&2
    exit 1
  else
    echo "note: no PostgreSQL server could be started (see /tmp/papi-bot-postgres.log);" \
      "the PostgreSQL tests will be skipped" >&2
  fi
fi
# The console's browser tests drive Debian's Chromium (Playwright downloads no browser).
if [ ! -x "${PAPI_BOT_CHROMIUM:-/usr/bin/chromium}" ]; then
  bash scripts/install-browser.sh >/dev/null
fi
# LibreOffice renders the DOCX report to PDF for the layout test (page count, the motto on
# one line): installed here when missing; the test then fails rather than skips without it.
if ! command -v soffice >/dev/null && ! command -v libreoffice >/dev/null; then
  bash scripts/libreoffice-for-tests.sh >/dev/null || echo "LibreOffice could not be installed" >&2
fi
export PAPI_BOT_REQUIRE_LIBREOFFICE=1
"$VENV/bin/pytest" -q -rs "$@"
# The wheel, installed outside the checkout, must run and speak Vietnamese too.
bash scripts/check-wheel.sh
