"""The Telegram session keeps the parsed answer models alive (issue 11: a rebuilt
``Response[Message]`` costs ≈15 ms of pydantic schema work each time the GC dropped it)."""

from __future__ import annotations

import gc
import json
import weakref

from aiogram.methods import GetMe, Response

from bot.channels.telegram.outgoing import make_bot

TOKEN = "42:TEST-token-not-secret"
ME = {"id": 42, "is_bot": True, "first_name": "papi", "username": "papi_bot"}


def test_pydantic_alone_forgets_the_answer_model_after_a_collection() -> None:
    """What the session works around (if pydantic ever caches strongly, drop the workaround)."""
    seen = weakref.ref(Response[GetMe.__returning__])  # type: ignore[valid-type]
    gc.collect()
    assert seen() is None


async def test_the_session_keeps_each_answer_model_across_collections() -> None:
    bot = make_bot(TOKEN, "http://127.0.0.1:9")
    try:
        content = json.dumps({"ok": True, "result": ME})
        first = bot.session.check_response(bot, GetMe(), 200, content)
        model = weakref.ref(type(first))
        del first  # an answer keeps its class alive: only the session may hold it now
        gc.collect()
        again = bot.session.check_response(bot, GetMe(), 200, content)
        assert model() is type(again)  # the same class: not rebuilt
        assert again.result is not None and again.result.username == "papi_bot"
    finally:
        await bot.session.close()
