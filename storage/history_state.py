"""The state the update history gives, kept on each assignment row (issue 11, the roll-up).

A roll-up counts, for a window, each assignment's status at the end of the window and
whether it became done within it. Asked of the ``progressupdate`` history, that is one or two
index probes per assignment, which cost several times a plain GROUP BY over the same rows.
So every new update also writes, on its assignment row (in the UPDATE that the status reply
already runs: no statement more), what the history says after it:

- ``history_status``, ``history_percent`` (the latest percent given), ``history_at`` (the
  latest update's time) and ``done_since`` (since when the history has said "done" without
  a break; None when it does not say "done");
- the same four at the start of the week, month, quarter, half-year and year of the latest
  update (``<kind>_mark`` is that start): the end of the previous period, which a roll-up
  with the previous period asks for.

``storage.rollup_sql`` reads them and asks the history only where they cannot answer
(a ``<kind>_mark`` that is not the moment asked, e.g. an older period). They are kept by a
``before_flush`` hook, so every writer through the ORM keeps them (the recurring tasks'
reopening, tests' own rows); an update older than the latest one, or an update edited or
deleted, has its assignment replayed from the whole history. The status reply's own writer,
``storage.progress.record_progress``, writes both rows with prebuilt Core statements and sets
the columns ``after_update`` gives in the same UPDATE (``kept_as_read`` says when it may; else
it goes through the ORM and this hook). Rows written
around the ORM (bulk SQL, a restored dump) are brought back with ``backfill``, as migration
0014r does for existing databases.

The new state is computed from the row as this transaction read it, like the status itself:
two transactions updating one assignment at once on PostgreSQL (READ COMMITTED) would keep
the last writer's view, so the writer that reads the assignment should lock it
(``SELECT ... FOR UPDATE``, the same statement); SQLite serialises writers and refuses a
stale one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, tzinfo
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Integer, String, bindparam, column, event, select, table, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from kernel.clock import local_zone
from storage.enums import AssignmentStatus
from storage.models import Assignment, ProgressUpdate
from storage.periods import current_period
from storage.types import UTCDateTime

if TYPE_CHECKING:
    from storage.item_values import AssignmentValues

MARK_KINDS = ("week", "month", "quarter", "half", "year")
FIELDS = ("status", "percent", "at", "done_since")


class State(NamedTuple):
    """What the history says at a moment: after the latest update before it."""

    status: str | None = None  # None: no update yet (the roll-up counts it not started)
    percent: int | None = None  # the latest percent given
    at: datetime | None = None  # the latest update's time
    done_since: datetime | None = None  # start of the unbroken run of "done" updates


EMPTY = State()


def advance(state: State, status: str, percent: int | None, at: datetime) -> State:
    """The state after one more update (in the history's order: time, then id)."""
    since: datetime | None = None
    if status == AssignmentStatus.DONE:
        since = state.done_since if state.status == AssignmentStatus.DONE else at
    return State(status, state.percent if percent is None else percent, at, since)


def mark_of(kind: str, moment: datetime) -> datetime:
    """The start of the ``kind`` period (app.timezone) that holds ``moment``."""
    zone = local_zone()
    return _mark(kind, moment.astimezone(zone).date(), zone)


@lru_cache(maxsize=256)
def _mark(kind: str, day: date, zone: tzinfo) -> datetime:
    # Every status reply asks for five of these: one local day's answers are computed once.
    return current_period(kind, day).start_moment


Marks = dict[str, tuple[datetime | None, State]]


def replay(updates: Iterable[tuple[str, int | None, datetime]]) -> tuple[State, Marks]:
    """The kept state of an assignment from its whole history, in order."""
    states: list[State] = []
    state = EMPTY
    for status, percent, at in updates:
        state = advance(state, status, percent, at)
        states.append(state)
    marks: Marks = {}
    if state.at is None:
        return state, {kind: (None, EMPTY) for kind in MARK_KINDS}
    for kind in MARK_KINDS:
        mark = mark_of(kind, state.at)
        before = [s for s in states if s.at is not None and s.at < mark]
        marks[kind] = (mark, before[-1] if before else EMPTY)
    return state, marks


def columns(latest: State, marks: Marks) -> dict[str, Any]:
    """The assignment columns that hold ``latest`` and ``marks``."""
    pairs = zip(FIELDS, latest, strict=True)
    out: dict[str, Any] = {f"history_{name}": value for name, value in pairs}
    out["done_since"] = out.pop("history_done_since")
    for kind, (mark, state) in marks.items():
        out[f"{kind}_mark"] = mark
        out.update({f"{kind}_{name}": value for name, value in zip(FIELDS, state, strict=True)})
    return out


def latest_of(assignment: Assignment | AssignmentValues) -> State:
    a = assignment
    return State(a.history_status, a.history_percent, a.history_at, a.done_since)


def _put(assignment: Assignment, values: dict[str, Any]) -> None:
    """Set only what changed: the status reply's UPDATE stays as narrow as it can."""
    for name, value in values.items():
        if getattr(assignment, name) != value:
            setattr(assignment, name, value)


def apply(assignment: Assignment, status: str, percent: int | None, at: datetime) -> None:
    """Keep the state for one new update, no older than the latest one already kept."""
    _put(assignment, after_update(assignment, status, percent, at))


def after_update(
    assignment: Assignment | AssignmentValues, status: str, percent: int | None, at: datetime
) -> dict[str, Any]:
    """The kept columns that one new update (no older than the latest one kept) sets: the
    latest state, and each period's start state where ``at`` begins a new period."""
    before = latest_of(assignment)
    marks: Marks = {}
    for kind in MARK_KINDS:
        mark = mark_of(kind, at)
        if getattr(assignment, f"{kind}_mark") == mark:
            continue  # an earlier update of this period already noted its start
        # The first update since ``mark``: the state before it is the state at ``mark``,
        # unless the latest update is not before it (a changed time zone): then unknown.
        known = before.at is None or before.at < mark
        marks[kind] = (mark, before) if known else (None, EMPTY)
    return columns(advance(before, status, percent, at), marks)


def kept_as_read(session: Session, assignment: Assignment | AssignmentValues, at: datetime) -> bool:
    """Whether ``after_update`` alone keeps the state for a new update at ``at``: none older
    than it is kept, and the flush holds no other update of the assignment (else the hook
    replays its history when they are flushed)."""
    kept_at = assignment.history_at
    if kept_at is not None and at < kept_at:
        return False
    return not any(
        isinstance(obj, ProgressUpdate) and obj.assignment_id == assignment.id
        for obj in chain(session.new, session.dirty, session.deleted)
    )


# Every kept column, in the model's order: what a writer around the ORM sets.
KEPT = tuple(columns(EMPTY, {kind: (None, EMPTY) for kind in MARK_KINDS}))


def _history(
    session: Session, assignment_id: int, pending: Sequence[ProgressUpdate]
) -> list[tuple[str, int | None, datetime]]:
    """The assignment's updates as the flush will leave them, in the history's order."""
    with session.no_autoflush:
        stored = (
            session.execute(
                select(ProgressUpdate).where(col(ProgressUpdate.assignment_id) == assignment_id)
            )
            .scalars()
            .all()
        )
    rows = [u for u in stored if u not in session.deleted and u.assignment_id == assignment_id]
    ordered = sorted(rows, key=lambda u: (u.created_at, u.id or 0))
    ordered += sorted(pending, key=lambda u: u.created_at)  # ids come with the INSERT
    ordered.sort(key=lambda u: u.created_at)  # stable: equal times keep id order
    return [(u.status, u.percent, u.created_at) for u in ordered]


def _loaded(session: Session, assignment_id: int) -> Assignment | None:
    found = session.identity_map.get(identity_key(Assignment, assignment_id))
    if isinstance(found, Assignment):
        return found
    with session.no_autoflush:
        return session.get(Assignment, assignment_id)  # not on the status reply's path


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    new: dict[int, list[ProgressUpdate]] = defaultdict(list)
    for obj in session.new:
        if isinstance(obj, ProgressUpdate) and obj.assignment_id:
            new[obj.assignment_id].append(obj)
    touched = {
        obj.assignment_id
        for obj in chain(session.dirty, session.deleted)
        if isinstance(obj, ProgressUpdate) and obj.assignment_id
    }
    for assignment_id in chain(new, touched.difference(new)):
        assignment = _loaded(session, assignment_id)
        if assignment is None or assignment in session.deleted:
            continue
        pending = sorted(new.get(assignment_id, []), key=lambda u: u.created_at)
        kept_at = assignment.history_at
        if assignment_id in touched or (kept_at is not None and pending[0].created_at < kept_at):
            latest, marks = replay(_history(session, assignment_id, pending))
            _put(assignment, columns(latest, marks))
            continue
        for u in pending:
            apply(assignment, u.status, u.percent, u.created_at)


def install() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


install()  # storage.models imports this module: every session keeps the state


def _assignment_table() -> Any:
    names = KEPT
    types: list[Any] = []
    for name in names:
        if name.endswith(("_at", "_mark", "done_since")):
            types.append(column(name, UTCDateTime()))
        elif name.endswith("_percent"):
            types.append(column(name, Integer()))
        else:
            types.append(column(name, String()))
    return table("assignment", column("id", Integer()), *types)


def _stream(connection: Connection) -> Iterator[tuple[int, list[tuple[str, Any, datetime]]]]:
    """Each assignment's history, in order, read with plain columns (no ORM: this runs in a
    migration, whose schema may be older than the models)."""
    pu = table(
        "progressupdate",
        column("id", Integer()),
        column("assignment_id", Integer()),
        column("status", String()),
        column("percent", Integer()),
        column("created_at", UTCDateTime()),
    )
    query = select(pu.c.assignment_id, pu.c.status, pu.c.percent, pu.c.created_at).order_by(
        pu.c.assignment_id, pu.c.created_at, pu.c.id
    )
    current: int | None = None
    rows: list[tuple[str, Any, datetime]] = []
    for assignment_id, status, percent, at in connection.execute(query):
        if assignment_id != current:
            if current is not None:
                yield current, rows
            current, rows = assignment_id, []
        rows.append((status, percent, at))
    if current is not None:
        yield current, rows


def backfill(connection: Connection, batch: int = 5000) -> int:
    """Compute the kept state of every assignment from its history (assignments without
    one are set empty); returns how many have a history."""
    target = _assignment_table()
    names = [c.name for c in target.columns if c.name != "id"]
    statement = (
        update(target)
        .where(target.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in names})
    )
    connection.execute(update(target).values(dict.fromkeys(names)))
    count = 0
    chunk: list[dict[str, Any]] = []
    for assignment_id, rows in _stream(connection):
        latest, marks = replay(rows)
        values = columns(latest, marks)
        chunk.append({"b_id": assignment_id, **{f"b_{k}": v for k, v in values.items()}})
        count += 1
        if len(chunk) >= batch:
            connection.execute(statement, chunk)
            chunk = []
    if chunk:
        connection.execute(statement, chunk)
    return count
