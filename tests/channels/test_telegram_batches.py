"""Polling: the chats of one getUpdates answer are handled at once, each chat in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.attempts import LIMIT
from bot.channels.telegram import TelegramReceiver, make_bot
from bot.channels.telegram import receiver as receiver_module
from bot.channels.telegram.receiver import chat_of
from bot.dbthreads import DatabaseLost
from handlers.types import Inbound
from kernel.clock import FixedClock
from tests.fakes.fake_telegram import FakeTelegram

TOKEN = "555222:BATCHES-token-never-logged"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


async def poll_until(
    fake: FakeTelegram,
    apply: Callable[[Inbound], Awaitable[None]],
    clock: FixedClock,
    stop: asyncio.Event,
    record: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Poll ``fake`` with a receiver around ``apply`` until ``stop`` is set (30 s at most)."""
    bot = make_bot(TOKEN, fake.base_url, timeout=5)
    try:
        receiver = TelegramReceiver(bot, apply, clock, record=record)
        await asyncio.wait_for(receiver.poll(poll_seconds=1, stop=stop), 30)
    finally:
        await bot.session.close()


async def test_a_slow_chat_does_not_hold_back_the_others_and_keeps_its_order(
    fake: FakeTelegram, clock: FixedClock
) -> None:
    for user, text in [(11, "a1"), (12, "b1"), (11, "a2"), (12, "b2"), (13, "c1")]:
        await fake.inject_message(user, text)
    release = asyncio.Event()
    applied: list[str] = []
    stop = asyncio.Event()

    async def apply(inbound: Inbound) -> None:
        if inbound.text == "a1":
            await release.wait()  # chat 11's first reply is slow (a busy database, say)
        applied.append(inbound.text or "")
        if {"b1", "b2", "c1"} <= set(applied):
            release.set()
        if len(applied) == 5:
            stop.set()

    await poll_until(fake, apply, clock, stop)
    # The other chats went while chat 11 waited; chat 11's "a2" never overtook its "a1".
    assert applied.index("b2") < applied.index("a1") < applied.index("a2")
    assert applied.index("b1") < applied.index("b2")


async def test_a_failure_confirms_nothing_from_the_failed_update_on(
    fake: FakeTelegram, clock: FixedClock
) -> None:
    for user, text in [(11, "a1"), (12, "b1"), (11, "a2"), (12, "b2")]:
        await fake.inject_message(user, text)
    failed_once = False
    seen: list[tuple[str, int]] = []  # (text, offset the server had confirmed by then)
    stop = asyncio.Event()

    async def apply(inbound: Inbound) -> None:
        nonlocal failed_once
        if inbound.text == "b1" and not failed_once:
            failed_once = True
            raise RuntimeError("database is down")
        seen.append((inbound.text or "", fake.confirmed_offset))
        if inbound.text == "b2":
            stop.set()

    await poll_until(fake, apply, clock, stop)
    texts = [text for text, _ in seen]
    # Chat 12 stopped at its failed update and went on in order after the retry; chat 11's
    # updates after it (already applied) came again: the pipeline's dedupe makes them no-ops.
    assert texts.index("b1") < texts.index("b2")
    assert "b2" not in texts[: texts.index("b1")]
    assert texts.count("a2") == 2
    b1_confirmed = dict(seen)["b1"]
    assert b1_confirmed <= 2  # "b1" is update 2: still unconfirmed when finally applied


def test_chat_of_names_the_chat_of_messages_and_button_presses() -> None:
    message = {"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 9}}
    press = {"update_id": 2, "callback_query": {"from": {"id": 5}, "message": {"chat": {"id": 5}}}}
    bare_press = {"update_id": 3, "callback_query": {"from": {"id": 7}}}
    assert chat_of(message) == chat_of(press) == 5
    assert chat_of(bare_press) == 7
    odd = [{"update_id": 4}, {"message": {"chat": "x"}}, [], {"message": {"chat": {"id": [1]}}}]
    keys = [chat_of(raw) for raw in odd]
    assert len({id(key) for key in keys}) == len(keys)  # each alone, none shares a chat
    assert not any(isinstance(key, int) for key in keys)


async def test_an_update_that_always_fails_is_given_up_and_the_bot_hears_what_follows(
    fake: FakeTelegram, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Retried for ever, it held the offset: a hundred updates later nothing new came. Now
    it gets ``LIMIT`` tries, is recorded as processed (its own key: a redelivery is a
    no-op), logged at ERROR without its text, and the chat's later updates are applied."""
    monkeypatch.setattr(receiver_module, "FIRST_POLL_BACKOFF", 0.01)
    for user, text in [(11, "poison 0912345678"), (11, "a2"), (12, "b1")]:
        await fake.inject_message(user, text)
    tries: list[str] = []
    recorded: list[str] = []
    poison_keys: set[str] = set()
    stop = asyncio.Event()

    async def apply(inbound: Inbound) -> None:
        tries.append(inbound.text or "")
        if inbound.text and inbound.text.startswith("poison"):
            poison_keys.add(inbound.update_key)
            raise ValueError(f"cannot store {inbound.text}")
        if {"a2", "b1"} <= set(tries):
            stop.set()

    async def record(key: str) -> None:
        recorded.append(key)

    await poll_until(fake, apply, clock, stop, record)
    assert tries.count("poison 0912345678") == LIMIT
    assert tries.index("a2") > len(tries) - 3  # chat 11 waited for its first, in order
    assert recorded == list(poison_keys)  # the pipeline's own key: a redelivery is a no-op
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "ValueError" in errors[0].getMessage()
    assert "0912345678" not in caplog.text and "poison" not in caplog.text


async def test_an_update_the_database_fails_is_retried_until_it_is_applied(
    fake: FakeTelegram, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "FIRST_POLL_BACKOFF", 0.01)
    await fake.inject_message(11, "xong")
    tries = 0
    stop = asyncio.Event()

    async def apply(inbound: Inbound) -> None:
        nonlocal tries
        tries += 1
        if tries <= 2 * LIMIT:  # the database process is down for a while
            raise DatabaseLost("the database process died")
        stop.set()

    recorded: list[str] = []

    async def record(key: str) -> None:
        recorded.append(key)

    await poll_until(fake, apply, clock, stop, record)
    assert tries == 2 * LIMIT + 1 and recorded == []  # never given up: it was applied
