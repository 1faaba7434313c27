#!/usr/bin/env bash
# Install papi-bot into ./.venv (first time only) and start it.
# With no TELEGRAM_BOT_TOKEN set this is the console chat on demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/papi-bot ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
fi
.venv/bin/papi-bot init >/dev/null
# The web console is served beside the bot ([web] in config.toml): say where.
url=$(.venv/bin/python -c 'from bot.config import load_settings; print(load_settings().web.base_url)')
echo "Web console: $url  (sign-in code: .venv/bin/papi-bot console-login --demo +84900000010)" >&2
exec .venv/bin/papi-bot run "$@"
