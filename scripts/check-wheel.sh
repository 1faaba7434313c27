#!/usr/bin/env bash
# The project as a user installs it: build the wheel, install it into a fresh virtual
# environment outside the checkout, and check from there that the CLI starts and that the
# bot answers in Vietnamese (catalogs, demo plan and migrations ship inside the wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
work=$(mktemp -d "${TMPDIR:-/tmp}/papi-bot-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
pip_quietly() {  # pip's warnings about local index folders are noise; show them on failure
  "$@" >"$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; exit 1; }
}
pip_quietly "$PYTHON" -m pip wheel --no-deps --wheel-dir "$work/dist" .
"$PYTHON" -m venv "$work/venv"
pip_quietly "$work/venv/bin/python" -m pip install "$work"/dist/papi_bot-*.whl
cd "$work"  # nothing of the checkout is on the path from here
"$work/venv/bin/papi-bot" --help >"$work/help.txt"
grep -q "run" "$work/help.txt" || { echo "check-wheel: papi-bot --help lists no run command" >&2; exit 1; }
env -u TELEGRAM_BOT_TOKEN -u ZALO_BOT_TOKEN -u ZALO_OA_ACCESS_TOKEN \
  "$work/venv/bin/papi-bot" run <<<$'/help\n/quit' >"$work/run.txt" 2>&1 || {
  echo "check-wheel: papi-bot run failed when installed from the wheel:" >&2
  cat "$work/run.txt" >&2
  exit 1
}
# A phrase only the Vietnamese catalog has: the English fallback would print message ids.
if ! grep -q "Đồng chí là ai" "$work/run.txt"; then
  echo "check-wheel: the installed bot did not answer in Vietnamese:" >&2
  cat "$work/run.txt" >&2
  exit 1
fi
# The web console's templates and static files ship too.
"$work/venv/bin/python" - <<'PY' || { echo "check-wheel: the console's files are missing" >&2; exit 1; }
from bot.web import STATIC_DIR
from bot.web.render import environment
from kernel.i18n import use_locale

with use_locale("vi"):
    html = environment().get_template("login.html").render(
        csrf="x", viewer=None, locale="vi", path="/login", expired=False, error=None, phone=""
    )
assert "Đăng nhập" in html, html
assert (STATIC_DIR / "console.css").is_file() and (STATIC_DIR / "console.js").is_file()
PY
# papi-bot run's database process (SQLite) starts from the installed package and applies a
# message there: what it imports ships, and nothing of the checkout is needed.
"$work/venv/bin/python" - "$work/process.db" <<'PY' || { echo "check-wheel: the database process failed" >&2; exit 1; }
import asyncio
import sys
from datetime import UTC, datetime

from bot.applier import Applier, ChannelFacts
from bot.channels.registry import default_registry
from bot.config import Settings
from bot.dbprocess import DatabaseProcess
from handlers.types import Inbound
from storage.db import make_engine, upgrade

url = f"sqlite:///{sys.argv[1]}"
engine = make_engine(url)
upgrade(engine)
settings = Settings()
applier = Applier(engine, settings, ChannelFacts.of(settings, default_registry(settings)))


async def main() -> None:
    database = DatabaseProcess(url, settings)
    now = datetime.now(UTC)
    hello = Inbound(
        channel="telegram", external_user_id="1", chat_id="1", update_key="wheel:1",
        received_at=now, message_id="1", text="/help",
    )
    try:
        applied = await database.run(applier.apply, hello, now)
    finally:
        database.close(wait=True)
    assert applied.ids, applied


asyncio.run(main())
PY
echo "check-wheel: the installed wheel starts and answers in Vietnamese"
