"""One drain of the outbox worker (``bot.outbox``): the rows it queued per chat and the
chats it holds back.

``Drain.queue`` takes rows as a drain reads them or is handed them, and keeps what the
worker promises (see ``bot.outbox``): each row once a drain (a row may come both read and
handed over), each chat's rows in id order, a held chat's later rows left to the next
drain, replies first.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.outbox_store import PendingRow

ChatKey = tuple[str, str]


@dataclass
class Drain:
    """The state of one ``drain``: the per-chat queues and the chats held back."""

    now: datetime
    queues: defaultdict[ChatKey, deque[PendingRow]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    tasks: dict[ChatKey, asyncio.Task[None]] = field(default_factory=dict)
    held: set[ChatKey] = field(default_factory=set)
    queued: int = 0
    handled: int = 0
    seen: set[int] = field(default_factory=set)  # ids queued (read or handed over)
    read: bool = False  # the table was read (else only handed-over rows were sent)
    priority: dict[ChatKey, int] = field(default_factory=dict)  # a chat's highest waiting
    room: asyncio.Event = field(default_factory=asyncio.Event)
    ending: bool = False  # the drain failed: each chat ends after the row in hand

    def queue(self, rows: Sequence[PendingRow]) -> list[ChatKey]:
        """Queue ``rows`` (in id order) per chat; the chats that now need a task of their
        own, those with a reply first, so that their claims and sends come first too."""
        started: list[ChatKey] = []
        for row in rows:
            if row.id in self.seen:
                continue
            key = (row.channel, row.chat_id)
            self.seen.add(row.id)
            # A held chat's later rows wait for the next drain; one claimed by its writer had
            # nothing of its chat pending before it, so it keeps no order by waiting.
            if key in self.held and not row.claimed:
                continue
            self.queues[key].append(row)
            self.queued += 1
            self.priority[key] = max(self.priority.get(key, row.priority), row.priority)
            if key not in self.tasks and key not in started:
                started.append(key)
        return sorted(started, key=lambda chat: -self.priority[chat])  # stable
