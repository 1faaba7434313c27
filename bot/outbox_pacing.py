"""What the outbox reads from a channel's declaration: its rates, shared by priority
(replies first), and the shape of a message it can carry.

aiolimiter's bucket serves waiters in arrival order, so a reply queued behind thousands of
reminders would wait for all of them. ``PriorityLimiter`` keeps the waiters in a heap
(highest priority first, then arrival) and lets one through each time the bucket has room.
``ChatPacer`` holds both limits of the channels one worker sends on: per chat and global.
``prepared`` turns a row's message into what the channel can carry (text limit, menu, edits).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import OrderedDict
from collections.abc import Mapping

from aiolimiter import AsyncLimiter

from bot.channels import menu
from bot.channels.base import Capabilities, OutgoingMessage
from bot.channels.registry import ChannelRegistry, default_registry
from bot.channels.textsplit import split_text
from bot.config import Settings


def leaky_bucket(rate_per_second: float) -> AsyncLimiter:
    """A leaky bucket for ``rate_per_second`` whose bursts last a tenth of a second.

    The long-run rate is the same as a one-second bucket's, but sends are spread evenly: a
    platform counting over its own window never sees the worker's burst plus network jitter
    at once (that is what produced the rare 429 at exactly the limit).
    """
    if rate_per_second >= 10:
        return AsyncLimiter(rate_per_second / 10, 0.1)
    return AsyncLimiter(1, 1.0 / rate_per_second)  # one at a time, evenly spaced


class PriorityLimiter:
    """``await acquire(priority)`` returns when the rate allows; higher priority first."""

    def __init__(self, rate_per_second: float) -> None:
        self._bucket = leaky_bucket(rate_per_second)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None

    async def acquire(self, priority: int = 0) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._order), future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run())
        await future

    async def _run(self) -> None:
        while True:
            while self._waiting and self._waiting[0][2].done():
                heapq.heappop(self._waiting)  # cancelled meanwhile: costs no turn
            if not self._waiting:
                return
            await self._bucket.acquire()
            while self._waiting:
                _priority, _order, future = heapq.heappop(self._waiting)
                if not future.done():  # a cancelled waiter gives its turn to the next
                    future.set_result(None)
                    break

    def close(self) -> None:
        """Stop handing out turns (the worker stops)."""
        if self._pump is not None:
            self._pump.cancel()


# A chat's sends are spaced 10 % wider than its declared rate: the pause is measured here, at
# the start of each call, and network jitter can bring two calls closer together where the
# platform counts them (at exactly 1.0 s, about one send in five landed inside a strict
# one-second window: issue 11).
PER_CHAT_MARGIN = 1.1
_MAX_CHATS_PACED = 10_000  # chats idle for long are forgotten (their pause is long over)


class ChatPacer:
    """The declared limits of each channel (``caps``; None: unlimited): per chat, at least
    ``PER_CHAT_MARGIN``/rate seconds since the previous send to that chat started; globally,
    a ``PriorityLimiter`` per channel. Used on the worker's event loop only."""

    def __init__(self, caps: Mapping[str, Capabilities | None]) -> None:
        self._caps = caps
        self._global: dict[str, PriorityLimiter] = {}
        self._last_send: OrderedDict[tuple[str, str], float] = OrderedDict()  # loop time

    async def pace(self, channel: str, chat_id: str, priority: int = 0) -> None:
        """Wait for the channel's declared limits: the chat's pause (a chat's sends are
        sequential, so this is exact even when the global limiter delayed the previous one),
        then the channel's leaky bucket, which serves replies first."""
        caps = self._caps.get(channel)
        if caps is None or caps.rates is None:
            return
        wait = self.pause(channel, chat_id)
        if wait > 0:
            await asyncio.sleep(wait)
        if channel not in self._global:
            self._global[channel] = PriorityLimiter(caps.rates.global_per_second)
        await self._global[channel].acquire(priority)

    def pause(self, channel: str, chat_id: str) -> float:
        """Seconds until the chat may be sent its next message (0: now)."""
        caps = self._caps.get(channel)
        last = self._last_send.get((channel, chat_id))
        if caps is None or caps.rates is None or last is None:
            return 0.0
        slot = last + PER_CHAT_MARGIN / caps.rates.per_chat_per_second
        return max(slot - asyncio.get_running_loop().time(), 0.0)

    def mark_send(self, channel: str, chat_id: str) -> None:
        """A send to the chat starts now: its next pause counts from here."""
        key = (channel, chat_id)
        self._last_send.pop(key, None)
        self._last_send[key] = asyncio.get_running_loop().time()  # most recently used last
        while len(self._last_send) > _MAX_CHATS_PACED:
            self._last_send.popitem(last=False)

    def close(self) -> None:
        """Stop the global limiters (the worker stops)."""
        for limiter in self._global.values():
            limiter.close()


def channel_rates(
    settings: Settings, channel: str, registry: ChannelRegistry | None = None
) -> tuple[float, float] | None:
    """(global, per chat) messages per second a channel declares; None: no limit."""
    registry = registry or default_registry(settings)
    if channel not in registry:
        return None
    rates = registry.capabilities(channel, settings).rates
    return None if rates is None else (rates.global_per_second, rates.per_chat_per_second)


def prepared(message: OutgoingMessage, caps: Capabilities | None) -> list[OutgoingMessage]:
    """``message`` as the channel can carry it: no edit where it cannot edit, the numbered
    menu where it has no buttons, several messages where the text is too long."""
    if caps is None:
        return [message]
    edit = message.edit_message_id if caps.edits else None
    room = 0 if caps.buttons else menu.menu_room(message.buttons)
    limit = max(caps.text_limit - room, 1)
    pieces = [message.text]
    if edit is None and message.file_path is None and len(message.text) > limit:
        pieces = split_text(message.text, limit)
    out = [OutgoingMessage(chat_id=message.chat_id, text=piece) for piece in pieces[:-1]]
    last = OutgoingMessage(
        chat_id=message.chat_id,
        text=pieces[-1],
        buttons=message.buttons,
        file_path=message.file_path,
        file_name=message.file_name,
        reply_to_message_id=message.reply_to_message_id,
        edit_message_id=edit,
    )
    if out:  # the reply goes on the first piece
        out[0] = OutgoingMessage(
            chat_id=message.chat_id,
            text=out[0].text,
            reply_to_message_id=message.reply_to_message_id,
        )
        last = OutgoingMessage(
            chat_id=last.chat_id,
            text=last.text,
            buttons=last.buttons,
            file_path=last.file_path,
            file_name=last.file_name,
        )
    out.append(last if caps.buttons else menu.with_menu(last))
    return out
