"""aiogram imported by bot.channels.telegram builds its models on first use, into the same
models a plain ``import aiogram`` builds (bot/channels/telegram/lazy_models.py).

Each side runs in a fresh interpreter (in this one aiogram may already be imported): one
imports aiogram plainly, the other through ``bot.channels.telegram``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from bot.channels.telegram.lazy_models import import_aiogram
from tests.e2e.conftest import REPO_ROOT

PLAIN, DEFERRED = "import aiogram", "import bot.channels.telegram"

# With USES, the first uses of a running bot: updates and an answer read, requests written.
# Then (or at once) every type and method in aiogram's own order, each model's core schema
# (object addresses and pydantic's id-based references taken out).
PROBE = """
import hashlib, json, re, sys
{start}
import pydantic
import aiogram.methods as M
import aiogram.types as T
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.methods.base import Response
from aiogram.types import (
    BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update,
)

deferred_at_start = not Message.__pydantic_complete__ and not Update.__pydantic_complete__
user = {{"id": 7, "is_bot": False, "first_name": "An", "language_code": "vi"}}
chat = {{"id": 7, "type": "private", "first_name": "An"}}
message = {{
    "message_id": 3, "date": 1764633600, "chat": chat, "from": user, "text": "3 40% xong",
    "entities": [{{"type": "bot_command", "offset": 0, "length": 1}}],
    "photo": [{{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90}}],
    "reply_to_message": {{"message_id": 2, "date": 1764633500, "chat": chat, "text": "?"}},
}}
updates = [
    {{"update_id": 1, "message": message}},
    {{"update_id": 2, "callback_query": {{
        "id": "q", "from": user, "chat_instance": "c", "data": "a:3:done", "message": message,
    }}}},
    {{"update_id": 3, "message": {{"message_id": 4, "date": 1, "chat": chat, "text": "hi",
        "document": {{"file_id": "d", "file_unique_id": "e", "file_name": "r.xlsx"}}}}}},
]
keyboard = lambda: InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Xong", callback_data="a:3:done")]]
)
make_requests = lambda: [
    SendMessage(chat_id=7, text="Đã ghi", reply_markup=keyboard()),
    EditMessageText(chat_id=7, message_id=3, text="Đã sửa", reply_markup=keyboard()),
    SendDocument(chat_id=7, document=BufferedInputFile(b"x", filename="r.xlsx"), caption="c"),
    AnswerCallbackQuery(callback_query_id="q"),
]
address = re.compile(r"0x[0-9a-f]+|:\\d{{6,}}")
outputs = None
if {uses}:
    read = [Update.model_validate(u).model_dump(mode="json", exclude_none=True) for u in updates]
    answer = Response[Message].model_validate({{"ok": True, "result": message}})
    written = [address.sub("@", repr(r.model_dump(warnings=False))) for r in make_requests()]
    outputs = {{
        "updates": read,
        "answer": answer.result.model_dump(mode="json", exclude_none=True),
        "requests": written,
    }}
def plain(value):
    if isinstance(value, dict):
        return {{str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return address.sub("@", value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return address.sub("@", getattr(value, "__qualname__", None) or repr(value))

models = [
    (module.__name__ + "." + name, getattr(module, name))
    for module in ((T, M) if {schemas} else ())
    for name in module.__all__
    if isinstance(getattr(module, name), type)
    and issubclass(getattr(module, name), pydantic.BaseModel)
]
for _name, model in models:
    model.__pydantic_core_schema__["type"]  # on a deferred model: pydantic's first-use build
schemas = {{
    name: hashlib.sha256(
        json.dumps(plain(model.__pydantic_core_schema__), sort_keys=True).encode()
    ).hexdigest()
    for name, model in models
}}
print(json.dumps({{"deferred": deferred_at_start, "outputs": outputs, "schemas": schemas}}))
"""


def probe(start: str, uses: bool, schemas: bool) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(start=start, uses=uses, schemas=schemas)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_models_built_on_first_use_read_write_and_validate_like_aiograms_own() -> None:
    with ThreadPoolExecutor(3) as pool:
        plain, used, untouched = pool.map(
            lambda args: probe(*args),
            ((PLAIN, True, True), (DEFERRED, True, False), (DEFERRED, False, True)),
        )
    assert plain["deferred"] is False  # aiogram alone builds every model at import
    assert used["deferred"] is True and untouched["deferred"] is True  # none built yet
    # The first uses read and write exactly what aiogram's own models do.
    assert used["outputs"] == plain["outputs"] and plain["outputs"] is not None
    # Built by pydantic on first use in aiogram's order, every model is the one aiogram's
    # import builds: the names it resolved are the ones aiogram gives.
    schemas = plain["schemas"]
    assert isinstance(schemas, dict) and len(schemas) > 500  # every type and method
    assert untouched["schemas"] == schemas


def test_an_aiogram_already_imported_is_left_as_it_is() -> None:
    import aiogram  # noqa: F401

    assert import_aiogram() is False
