"""The outbox worker: sends every ``OutboxMessage`` row through its channel, in order per chat.

Delivery guarantee (the choice, and why): **at-least-once with the platform, with a window of
one HTTP call**. Before a row is sent it is *claimed* in its own committed transaction
(``attempts + 1``, ``claimed_at`` set, ``next_attempt_at`` pushed out by a lease) with a
compare-and-set on ``attempts``, so two drains — or two workers on PostgreSQL — never send the
same row. After the platform answers, the outcome is committed at once. Only a crash between
the platform's answer and that commit leaves a claimed row; ``OutboxStore.recover_claims``
(run when the worker starts) makes such rows due again, so the message may reach the user
twice but is never lost. No platform offers an idempotency key for sending, so this is the
smallest window there is. On SQLite (one worker) ``recover_claims`` releases every claim;
on PostgreSQL several workers share the outbox: each claim is a lease naming its worker
(``claimed_by``), taken with ``FOR UPDATE SKIP LOCKED`` right before the HTTP call (never while
the row waits its turn), and a starting worker releases only leases that ran out
(``[outbox] claim_lease_seconds``), so a crashed worker's rows come due when its lease ends and
a live worker's send in flight is never taken from it. A drain the database fails under
lets each chat finish the message it is sending (its "sent" is still written) and claims
nothing more; a claim taken for a chat that gave up is released (``bot.outbox_batch``).

Priority: replies to an inbound message (``OUTBOX_PRIORITY_REPLY``) go before broadcasts
(reminders, digests). When woken during a long drain, the worker loads the new replies (and
whatever their chats were sent before them) at once instead of after the backlog, and the
channel's global rate is handed out replies first (``PriorityLimiter``).

Hand-over: the answer to an inbound message is usually the only thing its chat waits for.
The pipeline asks that in the answer's own transaction (``storage.queue.first_in_chats``) and
hands such rows over as written (``offer``): the worker queues them without reading them back,
and a drain started only by hand-overs reads nothing. While the worker runs, the same
statement claims such a row for it (``claims``: its lease, as above), so the worker sends it
without a claim of its own: a transaction and a round trip to the database less per answer.
Such a row waits for its chat's slot in place (a second at most), and one the worker will not
send because it stops is released; one a crash left claimed is released at the next start
(SQLite) or when its lease ends (PostgreSQL), as any claim. The table stays the truth: a
read that finds a row claimed for this worker before its hand-over was queued sends it on
that claim, and the hand-over that comes later is dropped. Every other writer ``wake``s the worker,
which then reads the table; so does a row it left waiting that came due, and at least every
``MAX_IDLE_SECONDS`` (other processes write rows too).

Capabilities: each channel's declaration (``bot.channels.registry``) gives its rate limits
and text limit; a text too long is sent as several messages (buttons on the last); a channel
without buttons gets the numbered menu in the text (stored for the chat once sent), one
without edits gets a new message instead.

Ordering: a chat's rows go strictly one after another, oldest id first. A row that failed
and waits for its retry holds back the later rows of its chat (so "done" never overtakes
"in progress"); a row that was merely scheduled for later (quiet hours) and never tried does
not hold anything back.

Fairness: a drain never waits for a chat's per-chat slot (about 1 message/s a chat): a
chat whose slot is more than ``PACE_INLINE_SECONDS`` away is skipped before its row is
claimed, the slot becomes the next moment to drain, and the drain serves the other chats and
ends. Rows that come due meanwhile (another chat's retry, a row scheduled a moment later,
one committed out of id order on PostgreSQL) are read by the next drain, never after one
chat's backlog of 200 messages (issue 12).

Outcomes: ``Throttled`` → retry after ``retry_after`` (not counted as an attempt);
``TemporaryFailure`` → exponential backoff, ``failed`` after ``outbox.max_attempts``;
``ContactStopped`` (a blocked bot; the Zalo OA's −230/−232 outside its window) → the channel
identity gets ``unreachable_at``, and this and the chat's other pending rows addressed to an
official move to that official's next reachable channel (``bot.routing``, due at once);
those with none, or addressed to no official, become ``unreachable``; ``PermanentFailure`` →
``failed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from bot.channels.base import (
    Capabilities,
    Channel,
)
from bot.channels.registry import ChannelRegistry, default_registry
from bot.config import Settings
from bot.dbthreads import Database, DatabaseLost, DatabaseThreads
from bot.outbox_drain import ChatKey, Drain
from bot.outbox_pacing import ChatPacer
from bot.outbox_send import MAX_CONCURRENT_SENDS, NOT_CLAIMED, RowSender
from bot.outbox_store import BATCH_SIZE, OutboxStore, PendingRow, fresh
from kernel.clock import Clock
from storage.models import OUTBOX_PRIORITY_REPLY
from storage.queue import ClaimTerms, QueuedRow

log = logging.getLogger(__name__)

MAX_QUEUED = 5_000  # rows loaded and not yet sent, at most, during a drain
MAX_IDLE_SECONDS = 5.0  # poll at least this often: other processes (CLI) write rows too
# A chat whose next slot is further off is left to the next drain ("Fairness"); a shorter
# pause is slept in place (cheaper than ending the drain and reading the queue again).
PACE_INLINE_SECONDS = 0.25
RETRY_LOST_SECONDS = 0.5  # a drain the database process ended under: again this soon

MAX_TAKEN = 10_000  # answers taken from the table before their hand-over, remembered

T = TypeVar("T")


class OutboxWorker:
    """Sends pending outbox rows; ``wake()`` after writing rows, ``run()`` forever."""

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        settings: Settings,
        clock: Clock,
        *,
        registry: ChannelRegistry | None = None,
        max_concurrent_sends: int = MAX_CONCURRENT_SENDS,
        database: Database | None = None,
    ) -> None:
        registry = registry or default_registry(settings)
        self._caps: dict[str, Capabilities | None] = {
            name: registry.capabilities(name, settings) if name in registry else None
            for name in channels
        }
        menu_channels = [name for name, caps in self._caps.items() if caps and caps.numbered_menus]
        self._store = OutboxStore(engine, list(channels), settings, clock, menu_channels)
        self._channels = dict(channels)
        self._settings = settings
        self._clock = clock
        self._event = asyncio.Event()  # run(): sleep until woken
        self._woken = asyncio.Event()  # drain(): new rows were written meanwhile
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_lock = asyncio.Lock()
        # One thread for the worker's database work: SQLite writes are serial anyway, and the
        # event loop never blocks on a busy database. ``database``: the caller's, shared with
        # the pipeline on SQLite (``bot.dbthreads``), and closed by the caller.
        self._owns_db = database is None
        self._db: Database = database or DatabaseThreads(1, "outbox-db")
        self._pacer = ChatPacer(self._caps)
        self._sender = RowSender(
            self._store,
            self._channels,
            self._caps,
            self._pacer,
            clock,
            self._in_db,
            lambda: self._stopping,
            max_concurrent_sends,
        )
        self._next_due: datetime | None = None  # earliest row the last drain left waiting
        self._stopping = False
        self._offered: list[PendingRow] = []  # handed over, not yet queued by a drain
        self._taken: OrderedDict[int, None] = OrderedDict()  # see ``_enqueue``
        self._terms = ClaimTerms(self._store.worker_id, self._store.lease, frozenset(channels))
        self._claiming = False  # run() is sending: answers may be claimed for it (``claims``)
        self._unread = True  # rows may have been written that no drain has read (``wake``)
        self._last_read = -MAX_IDLE_SECONDS  # loop time the last drain began reading

    # --- waking -------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows may be due: drain soon (a running drain picks up new replies at once).
        Safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._event.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._set_woken()
        else:
            loop.call_soon_threadsafe(self._set_woken)

    def _set_woken(self) -> None:
        self._unread = True
        self._event.set()
        self._woken.set()

    def offer(self, rows: Sequence[QueuedRow]) -> None:
        """Rows just committed that are the first pending ones of their chats
        (``storage.queue.first_in_chats``): queued as they are, without reading them back.
        A row of a channel this worker does not send on is left to the table. Call it on
        the worker's event loop."""
        mine = [
            fresh(row)
            for row in rows
            if row.channel in self._channels and not self._was_taken(row.id)
        ]
        if mine:
            self._offered.extend(mine)
            self._event.set()
            self._woken.set()

    def _was_taken(self, row_id: int) -> bool:
        """Whether a drain took this answer from the table before its hand-over came (and
        sent it, or will): asked once, by its one hand-over."""
        if row_id not in self._taken:
            return False
        del self._taken[row_id]
        return True

    def claims(self) -> ClaimTerms | None:
        """The terms on which an answer's transaction claims its row for this worker (the
        row then comes back through ``offer``, to be sent without a claim of its own); None
        when the worker is not sending: not started yet (its start releases every claim of
        an earlier run), stopping, or in a process that only receives."""
        return self._terms if self._claiming and not self._stopping else None

    async def run(self) -> None:
        """Drain, then sleep until woken or the next row is due; until cancelled."""
        self._loop = asyncio.get_running_loop()
        recovered = await self._in_db(self._store.recover_claims)
        self._unread = True  # released claims are due again
        if recovered:
            log.warning(
                "outbox: %d message(s) were in flight at the last stop; resending", recovered
            )
        self._claiming = True
        try:
            while not self._stopping:
                self._event.clear()
                try:
                    await self._drain(read=False)
                except DatabaseLost as exc:  # already logged where it happened
                    log.warning("outbox: drain interrupted (%s); draining again", exc)
                    self._unread = True  # the next job runs in a new process: soon
                    self._note_due(self._clock.now() + timedelta(seconds=RETRY_LOST_SECONDS))
                except Exception:  # the database may be briefly unavailable: keep going
                    log.exception("outbox: drain failed")
                await self._sleep(self._seconds_to_next_due())
            await self._release_offered()
        finally:
            self._claiming = False
            self._pacer.close()
            if self._owns_db:
                self._db.close()

    async def _sleep(self, seconds: float) -> None:
        """Until woken, at most ``seconds``. Not ``asyncio.wait_for``: on Python 3.11 it
        returns normally when the task is cancelled just as the event is set, and the
        worker would never stop (a hand-over sets it often)."""
        if self._event.is_set():
            return
        waiter = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait([waiter], timeout=seconds)
        finally:
            waiter.cancel()

    def stop(self) -> None:
        """Finish the messages in flight, claim no new one, and let ``run`` return."""
        self._stopping = True
        self.wake()

    async def _release_offered(self) -> None:
        """At a stop: the answers claimed for this worker and handed over after its last
        drain, due again at once (the next start, or another worker, sends them)."""
        offered, self._offered = self._offered, []
        await self._release_claimed(offered)

    async def _release_claimed(self, rows: Sequence[PendingRow]) -> None:
        """Those of ``rows`` claimed for this worker by their writer, which it will not send
        (it stops): due again at once."""
        claimed = [row for row in rows if row.claimed]
        if not claimed:
            return
        try:
            await self._in_db(self._store.release_many, claimed)
        except Exception as exc:  # the next start releases them (SQLite), or their lease ends
            log.warning("outbox: %d claimed answer(s) not released (%s)", len(claimed), exc)

    def close(self) -> None:
        """Release the database thread (``run`` does this itself when cancelled)."""
        if self._owns_db:
            self._db.close(wait=True)

    # --- draining -----------------------------------------------------------------------

    async def drain(self) -> int:
        """Send every row that is due now; the number of rows tried (sent or not).

        Rows are loaded in id order, batch after batch, into one queue per chat; each chat
        with rows has one task sending them one after another, all chats at once (bounded by
        the rate limits and ``MAX_QUEUED`` rows in memory). Woken meanwhile, it loads the new
        replies at once, ahead of the backlog.
        """
        return await self._drain(read=True)

    async def _drain(self, *, read: bool) -> int:
        """``drain``; ``read`` False: the table only when it may hold due rows this worker
        was not handed (``_must_read``)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        async with self._drain_lock:
            run = Drain(self._clock.now())
            self._woken.clear()
            read = read or self._must_read(run.now)
            if read:
                self._next_due = None  # the table is read again: its earliest row found anew
                self._begin_reading(run)
            self._take_offered(run)  # first in their chats: ahead of any backlog read
            try:
                await self._drain_rows(run, exhausted=not read)
            except asyncio.CancelledError:  # the bot stops: the chats' tasks go with it
                await self._end_chats(run, cancel=True)
                raise
            except BaseException:  # the database failed under it: each chat ends its row
                await self._end_chats(run, cancel=False)
                raise
            if run.read:
                later = await self._in_db(self._store.earliest_scheduled, run.now)
                if later is not None:
                    self._note_due(later)
            return run.handled

    def _must_read(self, now: datetime) -> bool:
        """Whether the table may hold due rows this worker was not handed: written by
        someone who only woke it, left waiting by an earlier drain and due now, or written
        by another process (read at least every ``MAX_IDLE_SECONDS``)."""
        assert self._loop is not None
        return (
            self._unread
            or (self._next_due is not None and self._next_due <= now)
            or self._loop.time() - self._last_read >= MAX_IDLE_SECONDS
        )

    def _begin_reading(self, run: Drain) -> None:
        assert self._loop is not None
        self._unread = False
        self._last_read = self._loop.time()
        run.read = True

    def _take_offered(self, run: Drain) -> None:
        rows, self._offered = self._offered, []
        self._enqueue(run, rows)

    async def _drain_rows(self, run: Drain, *, exhausted: bool) -> None:
        """Load and send until every due row was tried (see ``drain``); ``exhausted``:
        nothing to read (a drain of handed-over rows)."""
        after_id = 0
        while True:
            if self._woken.is_set():
                self._woken.clear()
                run.now = self._clock.now()
                self._take_offered(run)
                if self._unread:
                    if not run.read:
                        self._begin_reading(run)
                    self._unread = False
                    exhausted = False
                    await self._load_urgent(run, after_id)
            if not exhausted and run.queued < MAX_QUEUED:
                rows = await self._in_db(self._store.load_pending, after_id, run.now)
                if rows:
                    after_id = rows[-1].id
                    self._enqueue(run, rows)
                if len(rows) == BATCH_SIZE:
                    continue  # there may be more (a short batch was the last: no empty read)
                exhausted = True
            if exhausted and not run.tasks:
                break
            await self._wait_for_change(run)

    async def _load_urgent(self, run: Drain, after_id: int) -> None:
        rows = await self._in_db(self._store.load_urgent, after_id, run.now, OUTBOX_PRIORITY_REPLY)
        self._enqueue(run, rows)

    def _enqueue(self, run: Drain, rows: list[PendingRow]) -> None:
        """Queue ``rows`` (``Drain.queue``) and start the new chats' tasks. An answer read
        from the table before its hand-over was queued is sent from here: its hand-over,
        if it comes after this drain, is dropped (``offer``)."""
        for row in rows:
            if row.awaited and row.id not in run.seen:
                self._taken[row.id] = None
                if len(self._taken) > MAX_TAKEN:
                    self._taken.popitem(last=False)
        for key in run.queue(rows):
            run.tasks[key] = asyncio.create_task(self._drain_chat(key, run))

    async def _wait_for_change(self, run: Drain) -> None:
        """Until there is room for more rows, a chat finished, or new rows were written."""
        run.room.clear()
        waiters = [asyncio.create_task(run.room.wait()), asyncio.create_task(self._woken.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _end_chats(self, run: Drain, *, cancel: bool) -> None:
        """The chats' tasks, ended: cancelled, or (a drain that failed) each after the row
        it is sending, whose outcome is still recorded (cancelling that send would leave a
        message the official may have, claimed, to be sent again)."""
        run.ending = True
        if cancel:
            for task in list(run.tasks.values()):
                task.cancel()
        await asyncio.gather(*run.tasks.values(), return_exceptions=True)

    async def _drain_chat(self, key: ChatKey, run: Drain) -> None:
        queue = run.queues[key]
        try:
            while queue and not run.ending:
                row = queue.popleft()
                run.queued -= 1
                run.room.set()
                if not await self._try_row(key, row, run):
                    run.held.add(key)
                    run.queued -= len(queue)
                    queue.clear()
        finally:
            del run.tasks[key]
            run.queues.pop(key, None)
            run.priority.pop(key, None)
            run.room.set()  # the drain may be waiting for the last chat to finish

    async def _try_row(self, key: ChatKey, row: PendingRow, run: Drain) -> bool:
        """Send ``row`` if it is due; False when the chat's later rows must wait."""
        if self._stopping:
            await self._release_claimed([row])
            return False
        # A row claimed for this worker is due: its claim was taken to send it now (a read
        # may have found it at a moment of the drain's taken before the claim's).
        if row.next_attempt_at > run.now and not row.claimed:
            self._note_due(row.next_attempt_at)
            # Waiting for a retry: later rows wait behind it. Merely scheduled for later
            # (quiet hours): it does not block the chat.
            return not row.tried
        pause = self._pacer.pause(row.channel, row.chat_id)
        # Not its turn yet: serve the other chats meanwhile. A row claimed for this worker
        # waits for its chat's slot in place (a second or so, well inside its lease).
        if pause > PACE_INLINE_SECONDS and not row.claimed:
            self._note_due(self._clock.now() + timedelta(seconds=pause))
            return False
        retry_at = await self._sender.send(row, run.priority.get(key, row.priority))
        if retry_at is NOT_CLAIMED:
            # Someone else has it: keep this chat's order. A row its writer claimed for this
            # worker comes back so only when the worker stops: its claim is let go.
            await self._release_claimed([row])
            self._note_due(run.now + timedelta(seconds=MAX_IDLE_SECONDS))
            return False
        run.handled += 1
        if isinstance(retry_at, datetime):
            self._note_due(retry_at)
            return False
        return True

    def _note_due(self, when: datetime) -> None:
        if self._next_due is None or when < self._next_due:
            self._next_due = when

    def _seconds_to_next_due(self) -> float:
        """Until the earliest row this drain left waiting, at most ``MAX_IDLE_SECONDS``."""
        if self._next_due is None:
            return MAX_IDLE_SECONDS
        seconds = (self._next_due - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), MAX_IDLE_SECONDS)

    async def _in_db(self, func_: Callable[..., T], *args: Any) -> T:
        return await self._db.run(func_, *args)
