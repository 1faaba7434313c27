"""The "durable floor" that bench_telegram.py runs beside papi-bot: the cheapest aiogram 3
bot that keeps papi-bot's durability contract for a status reply, written with bare
``sqlite3`` and nothing else (no project import, no ORM, no conversation logic).

The contract it keeps, as papi-bot does (bot/pipeline.py, bot/outbox.py):
- every inbound update commits ONE transaction with its processed mark (a redelivered
  update is skipped), the status change, its history row and its outbox row;
- the offset of getUpdates moves past an update only once that transaction committed
  (aiogram's ``handle_as_tasks=False``: the handler returns after the commit, the send goes
  on in a task of its own);
- the answer is sent from the outbox row: claimed (a lease, committed with the answer when
  nothing of its chat is pending before it, else in a transaction of its own), sent, marked
  sent (a commit); rows left unsent by a crash are sent at the next start (at least once); a
  chat's answers go in order;
- all database work runs on ONE thread (``ThreadPoolExecutor(max_workers=1)``), as papi-bot
  does on SQLite (bot/dbthreads.py), with storage/db.py's pragmas: WAL, synchronous=NORMAL,
  foreign_keys=ON.

A status reply ("<assignment> 40%") is the SAME statements papi-bot's run sends to SQLite,
11 and one commit ("SQL statements per update: 11.0" in benchmarks/profile_status.py;
tests/test_floor_bot.py holds the two lists equal), in papi-bot's order:

    INSERT processed                    duplicate (channel, update key) → roll back, skip
    SELECT identity ⋈ official          by (channel, user)
    UPDATE identity SET last_inbound_at
    INSERT floodwindow … ON CONFLICT DO UPDATE … RETURNING   the sender's per-minute window
    SELECT state                        the chat's conversation state
    SELECT assignment ⋈ task, EXISTS(assignee is the sender)
    UPDATE state (INSERT the first time)  focus on the task, 30 minutes
    INSERT progress
    UPDATE assignment                   status, percent, last update
    INSERT outbox … RETURNING id
    UPDATE outbox SET the claim WHERE id AND NOT EXISTS (an earlier pending row of the chat)
                                        claimed: the answer is handed to the sender as is
    COMMIT

then the HTTP send and, on the same thread, ``UPDATE outbox SET status = 'sent', sent_at,
external_message_id, claimed_at = NULL …`` + COMMIT (papi-bot's mark_sent_rows, one row:
papi-bot may group the outcomes of one moment, the floor never does). An answer behind an
earlier row of its chat is claimed when its turn comes: ``UPDATE outbox SET attempts =
attempts + 1, claimed_at, claimed_by, next_attempt_at (the lease) WHERE id AND status =
'pending' AND attempts RETURNING`` + COMMIT (claim_rows). What papi-bot does beyond this
is not in the floor: the ORM, the handler's parsing and wording (Babel, gettext, the plan's
period), the plan join, the roll-up state columns, the outbox's drains (a chat with older
rows waiting), pacing and retries (a failed send here stays pending until the next start).

Schema (created at start; each table holds what those statements touch, each index is one
a lookup needs): official(id, name, role, locale); identity(official, channel,
external_user_id, chat_id, linked_at, last_inbound_at; UNIQUE(channel, external_user_id));
processed(PRIMARY KEY(channel, update_key), processed_at); floodwindow(sender, kind,
window_start, count, notified; UNIQUE(sender, kind)); state(channel, chat_id, kind, data,
updated_at, expires_at; UNIQUE(channel, chat_id)); task(id, text); assignment(id, task,
status, percent, last_update_at); assignee(PRIMARY KEY(assignment, official)); progress(
assignment, official, status, percent, channel, external_message_id, created_at);
outbox(channel, chat_id, official, text, status, attempts, next_attempt_at, claimed_at,
claimed_by, sent_at, external_message_id, created_at; INDEX(status, id): the unsent rows).

"/start 12,13,14" links the sender as an official assigned to those assignments (created
if new): papi-bot's invite code, here in the open. Reads BENCH_API_BASE, BENCH_TOKEN and
BENCH_DB (the SQLite file) from the environment.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update

T = TypeVar("T")
CHANNEL = "telegram"
FLOOD_PER_MINUTE = 1000  # bench_telegram gives papi-bot the same ([flood] messages_per_minute)
FOCUS = timedelta(minutes=30)  # papi-bot's focus state lasts as long (handlers/state.py)
LEASE = timedelta(seconds=60)  # a claim older than this is a crashed send
STATUS = re.compile(r"^#?(\d+)\s+(\d{1,3})\s*%$")
LINK = re.compile(r"^/start\s+([\d,]+)$")
log = logging.getLogger("floor_bot")

SCHEMA = """
CREATE TABLE IF NOT EXISTS official (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, locale TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identity (
    id INTEGER PRIMARY KEY, official_id INTEGER NOT NULL REFERENCES official(id),
    channel TEXT NOT NULL, external_user_id TEXT NOT NULL, chat_id TEXT NOT NULL,
    linked_at TEXT NOT NULL, last_inbound_at TEXT, UNIQUE (channel, external_user_id));
CREATE TABLE IF NOT EXISTS processed (
    channel TEXT NOT NULL, update_key TEXT NOT NULL, processed_at TEXT NOT NULL,
    PRIMARY KEY (channel, update_key));
CREATE TABLE IF NOT EXISTS floodwindow (
    id INTEGER PRIMARY KEY, sender TEXT NOT NULL, kind TEXT NOT NULL,
    window_start TEXT NOT NULL, count INTEGER NOT NULL, notified INTEGER NOT NULL,
    UNIQUE (sender, kind));
CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY, channel TEXT NOT NULL, chat_id TEXT NOT NULL, kind TEXT NOT NULL,
    data TEXT NOT NULL, updated_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    UNIQUE (channel, chat_id));
CREATE TABLE IF NOT EXISTS task (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assignment (
    id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES task(id),
    status TEXT NOT NULL, percent INTEGER, last_update_at TEXT);
CREATE TABLE IF NOT EXISTS assignee (
    assignment_id INTEGER NOT NULL REFERENCES assignment(id),
    official_id INTEGER NOT NULL REFERENCES official(id),
    PRIMARY KEY (assignment_id, official_id));
CREATE TABLE IF NOT EXISTS progress (
    id INTEGER PRIMARY KEY, assignment_id INTEGER NOT NULL REFERENCES assignment(id),
    official_id INTEGER NOT NULL REFERENCES official(id), status TEXT NOT NULL,
    percent INTEGER, channel TEXT NOT NULL, external_message_id TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, channel TEXT NOT NULL, chat_id TEXT NOT NULL,
    official_id INTEGER REFERENCES official(id), text TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL,
    claimed_at TEXT, claimed_by TEXT, sent_at TEXT, external_message_id TEXT,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (status, id);
CREATE INDEX IF NOT EXISTS outbox_pending_chat ON outbox (channel, chat_id, id)
    WHERE status = 'pending';
"""

IDENTITY = (
    "SELECT identity.id, identity.official_id, identity.chat_id, official.role, official.locale"
    " FROM identity JOIN official ON official.id = identity.official_id"
    " WHERE identity.channel = ? AND identity.external_user_id = ?"
)
FLOOD = (  # storage/flood.py: a new window once the old one is a minute old
    "INSERT INTO floodwindow (sender, kind, window_start, count, notified) VALUES (?, ?, ?, 1, 0)"
    " ON CONFLICT (sender, kind) DO UPDATE SET"
    " window_start = CASE WHEN floodwindow.window_start <= ? THEN excluded.window_start"
    " ELSE floodwindow.window_start END,"
    " count = CASE WHEN floodwindow.window_start <= ? THEN 1 ELSE floodwindow.count + 1 END,"
    " notified = CASE WHEN floodwindow.window_start <= ? THEN 0 ELSE floodwindow.notified END"
    " RETURNING count"
)
ITEM = (
    "SELECT assignment.id, assignment.status, task.text, EXISTS (SELECT 1 FROM assignee"
    " WHERE assignee.assignment_id = assignment.id AND assignee.official_id = ?) AS mine"
    " FROM assignment JOIN task ON task.id = assignment.task_id WHERE assignment.id = ?"
)
OUTBOX = (
    "INSERT INTO outbox (channel, chat_id, official_id, text, status, attempts,"
    " next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) RETURNING id"
)
CLAIM_IF_FIRST = (  # storage/queue.py first_in_chats: the answer first in its chat, claimed
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, claimed_at = ?,"
    " claimed_by = ? WHERE id = ? AND NOT (EXISTS (SELECT * FROM outbox AS earlier"
    " WHERE earlier.status = 'pending' AND earlier.channel = ? AND earlier.chat_id = ?"
    " AND earlier.id < ?)) RETURNING id"
)
CLAIM = (  # storage/outbox_rows.py claim_rows: the attempt count is the row's version
    "UPDATE outbox SET attempts = attempts + 1, claimed_at = ?, claimed_by = ?,"
    " next_attempt_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?"
    " RETURNING chat_id, text"
)
SENT = (  # mark_sent_rows
    "UPDATE outbox SET status = 'sent', sent_at = ?, external_message_id = ?,"
    " claimed_at = NULL, claimed_by = NULL WHERE id = ?"
)


@dataclass(frozen=True)
class Change:
    """A status reply's writes, decided by its reads."""

    official: int
    chat: str
    number: int  # the assignment
    percent: int
    message: str  # its id on the platform
    state_id: int | None  # the chat's state row, if it has one


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ")  # as papi-bot's UTC columns hold it


class FloorStore:
    """The bot's SQLite file, used only from the one database thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.worker = f"floor:{os.getpid()}"
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:  # opened in the database thread, which alone uses it
            self._db = sqlite3.connect(self.path)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.executescript(SCHEMA)
        return self._db

    def apply(
        self, update_key: str, message: str, user: str, chat: str, text: str
    ) -> tuple[int, int, str | None] | None:
        """The inbound transaction of update ``update_key`` (message ``message`` from
        ``user`` in ``chat``): its outbox row's (id, attempts, the answer if it was claimed
        with it), or None (a duplicate)."""
        db, now = self.db, datetime.now(UTC)
        try:
            db.execute("INSERT INTO processed VALUES (?, ?, ?)", (CHANNEL, update_key, _stamp(now)))
        except sqlite3.IntegrityError:
            db.rollback()
            return None
        try:
            link = LINK.match(text)
            if link:
                answer, official, change = self._link(db, user, chat, link.group(1), now)
            else:
                answer, official, change = self._read(db, user, chat, text, message, now)
            if change is not None:
                self._write(db, change, now)
            stamp = _stamp(now)
            (row_id,) = db.execute(
                OUTBOX, (CHANNEL, chat, official, answer, stamp, stamp)
            ).fetchone()
            lease = (_stamp(now + LEASE), stamp, self.worker, row_id, CHANNEL, chat, row_id)
            claimed = db.execute(CLAIM_IF_FIRST, lease).fetchone() is not None
            db.commit()
        except BaseException:
            db.rollback()  # nothing of the update is kept: it comes again
            raise
        return row_id, 0, answer if claimed else None

    def _read(
        self, db: sqlite3.Connection, user: str, chat: str, text: str, message: str, now: datetime
    ) -> tuple[str, int | None, Change | None]:
        """The reads of a status reply (with the sender's flood window and last message
        time): its answer, the official, the change to write before the outbox row (papi-bot
        writes them in that order)."""
        identity = db.execute(IDENTITY, (CHANNEL, user)).fetchone()
        if identity is None:
            return "Bạn chưa liên kết tài khoản. Gửi /start kèm mã mời.", None, None
        identity_id, official = int(identity[0]), int(identity[1])
        stamp, window = _stamp(now), _stamp(now - timedelta(minutes=1))
        sender = hashlib.sha256(f"{CHANNEL}\x00{user}".encode()).hexdigest()
        db.execute("UPDATE identity SET last_inbound_at = ? WHERE id = ?", (stamp, identity_id))
        (count,) = db.execute(FLOOD, (sender, "message", stamp, window, window, window)).fetchone()
        if count > FLOOD_PER_MINUTE:
            return "Bạn gửi quá nhanh, vui lòng chờ một phút.", official, None
        status = STATUS.match(text)
        if status is None:
            return "Gửi: <số nhiệm vụ> <phần trăm>%, ví dụ: 12 40%", official, None
        state = db.execute(
            "SELECT id, kind, data FROM state WHERE channel = ? AND chat_id = ?", (CHANNEL, chat)
        ).fetchone()
        number, percent = int(status.group(1)), min(100, int(status.group(2)))
        item = db.execute(ITEM, (official, number)).fetchone()
        if item is None or not item[3]:
            return f"Nhiệm vụ #{number} không phải của bạn.", official, None
        change = Change(
            official, chat, number, percent, message, None if state is None else state[0]
        )
        return f"✅ #{number}: {percent}%. Đã ghi nhận.", official, change

    def _write(self, db: sqlite3.Connection, change: Change, now: datetime) -> None:
        """The status change's writes: the chat's state, the history row, the assignment."""
        stamp, status = _stamp(now), "done" if change.percent == 100 else "in_progress"
        focus = (json.dumps({"assignment_id": change.number}), stamp, _stamp(now + FOCUS))
        if change.state_id is not None:
            db.execute(
                "UPDATE state SET kind = 'focus', data = ?, updated_at = ?, expires_at = ?"
                " WHERE id = ?",
                (*focus, change.state_id),
            )
        else:
            db.execute(
                "INSERT INTO state (channel, chat_id, kind, data, updated_at, expires_at)"
                " VALUES (?, ?, 'focus', ?, ?, ?)",
                (CHANNEL, change.chat, *focus),
            )
        db.execute(
            "INSERT INTO progress (assignment_id, official_id, status, percent, channel,"
            " external_message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                change.number,
                change.official,
                status,
                change.percent,
                CHANNEL,
                change.message,
                stamp,
            ),
        )
        db.execute(
            "UPDATE assignment SET status = ?, percent = ?, last_update_at = ? WHERE id = ?",
            (status, change.percent, stamp, change.number),
        )

    def _link(
        self, db: sqlite3.Connection, user: str, chat: str, numbers: str, now: datetime
    ) -> tuple[str, int | None, Change | None]:
        """Link the sender as an official assigned to ``numbers`` (created if new)."""
        stamp = _stamp(now)
        known = db.execute(IDENTITY, (CHANNEL, user)).fetchone()
        if known is not None:
            official = int(known[1])
        else:
            official = db.execute(
                "INSERT INTO official (name, role, locale) VALUES (?, 'official', 'vi')"
                " RETURNING id",
                (f"Cán bộ {user}",),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO identity (official_id, channel, external_user_id, chat_id,"
                " linked_at, last_inbound_at) VALUES (?, ?, ?, ?, ?, ?)",
                (official, CHANNEL, user, chat, stamp, stamp),
            )
        for number in {int(n) for n in numbers.split(",") if n}:
            db.execute("INSERT OR IGNORE INTO task VALUES (?, ?)", (number, f"Nhiệm vụ {number}"))
            db.execute(
                "INSERT OR IGNORE INTO assignment (id, task_id, status) VALUES (?, ?, ?)",
                (number, number, "not_started"),
            )
            db.execute("INSERT OR IGNORE INTO assignee VALUES (?, ?)", (number, official))
        return "Đã liên kết tài khoản.", official, None

    def claim(self, row_id: int, attempts: int) -> tuple[str, str] | None:
        now = datetime.now(UTC)
        lease = (_stamp(now), self.worker, _stamp(now + LEASE), row_id, attempts)
        taken = self.db.execute(CLAIM, lease).fetchone()
        self.db.commit()
        return (str(taken[0]), str(taken[1])) if taken is not None else None

    def sent(self, row_id: int, message_id: int) -> None:
        self.db.execute(SENT, (_stamp(datetime.now(UTC)), str(message_id), row_id))
        self.db.commit()

    def unsent(self) -> list[tuple[int, int]]:
        """Rows a crash left unsent (pending, claimed or not), in order: (id, attempts)."""
        rows = self.db.execute(
            "SELECT id, attempts FROM outbox WHERE status = 'pending' ORDER BY id"
        ).fetchall()
        return [(int(row_id), int(attempts)) for row_id, attempts in rows]


class FloorBot:
    def __init__(self, bot: Bot, store: FloorStore) -> None:
        self.bot = bot
        self.store = store
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self.chats: dict[str, asyncio.Task[None]] = {}  # each chat's last send, for order

    async def in_db(self, job: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.thread, job, *args)

    async def on_message(self, message: Message, event_update: Update) -> None:
        """Returns once the update is committed (the poll's offset may then move past it);
        the answer goes in a task of its own, after the chat's previous one."""
        chat, user = str(message.chat.id), str(message.from_user.id if message.from_user else "")
        update, text = str(event_update.update_id), message.text or ""
        row = await self.in_db(self.store.apply, update, str(message.message_id), user, chat, text)
        if row is not None:
            self.send_later(chat, *row)

    def send_later(self, chat: str, row_id: int, attempts: int, claimed: str | None) -> None:
        """``claimed``: the answer, claimed in its own transaction (else claimed here)."""
        previous = self.chats.get(chat)
        task = asyncio.create_task(self.send(previous, row_id, attempts, chat, claimed))
        self.chats[chat] = task
        task.add_done_callback(lambda done: self._forget(chat, done))

    def _forget(self, chat: str, done: asyncio.Task[None]) -> None:
        if self.chats.get(chat) is done:  # the chat's last send: nothing waits on it
            del self.chats[chat]

    async def send(
        self,
        before: asyncio.Task[None] | None,
        row_id: int,
        attempts: int,
        chat: str = "",
        answer: str | None = None,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])  # its failure is its own: logged there
        try:
            claimed = (chat, answer) if answer is not None else None
            if claimed is None:
                claimed = await self.in_db(self.store.claim, row_id, attempts)
            if claimed is None:  # already sent, or taken by another try
                return
            sent = await self.bot.send_message(claimed[0], claimed[1])
            await self.in_db(self.store.sent, row_id, sent.message_id)
        except Exception:  # the row stays pending: sent again at the next start
            log.exception("floor bot: outbox row %d not sent", row_id)

    async def recover(self) -> None:
        for row_id, attempts in await self.in_db(self.store.unsent):
            await self.send(None, row_id, attempts)


async def main() -> None:
    api = TelegramAPIServer.from_base(os.environ["BENCH_API_BASE"])
    bot = Bot(os.environ["BENCH_TOKEN"], session=AiohttpSession(api=api))
    floor = FloorBot(bot, FloorStore(os.environ["BENCH_DB"]))
    await floor.recover()
    dispatcher = Dispatcher()
    dispatcher.message.register(floor.on_message)
    try:
        await dispatcher.start_polling(
            bot, polling_timeout=30, handle_signals=True, handle_as_tasks=False
        )
    finally:
        floor.thread.shutdown(wait=True)


if __name__ == "__main__":
    asyncio.run(main())
