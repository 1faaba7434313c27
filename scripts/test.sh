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
"$VENV/bin/pytest" -q "$@"
