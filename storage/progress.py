"""Work on an assignment: a progress update, evidence files, the officials a chair hands it
to. Every change to an assignment's status, percent or note is written here, with its
``ProgressUpdate`` row, so the history and the current state cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from storage import history_state
from storage.item_values import VALUE_NAMES, AssignmentValues, read_locked
from storage.models import (
    Assignment,
    AssignmentOfficial,
    AssignmentStatus,
    Evidence,
    ProgressUpdate,
)
from storage.prebuilt import UpdateById
from storage.prepared import Prepared, session_connection

NOTE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Source:
    """Where a change came from: who, on which channel, in which message, when."""

    official_id: int | None
    channel: str | None
    message_id: str | None
    now: datetime


class EvidenceFile(Protocol):
    """A file the channel holds for us (``handlers.types.Attachment`` is one)."""

    @property
    def file_id(self) -> str: ...
    @property
    def file_unique_id(self) -> str | None: ...
    @property
    def file_name(self) -> str | None: ...
    @property
    def mime_type(self) -> str | None: ...
    @property
    def file_size(self) -> int | None: ...
    @property
    def stored_path(self) -> str | None: ...
    @property
    def fetch_error(self) -> str | None: ...


def record_progress(
    session: Session,
    assignment: Assignment | AssignmentValues,
    status: str | None,
    percent: int | None,
    note: str | None,
    source: Source,
) -> None:
    """Apply a change (``status`` None: a note only) and log it, written at once.

    Done means 100 % and a done time; any other status clears the done time; a note replaces
    the assignment's note, and "done" without one clears a blocking reason. A note alone on a
    blocked assignment is a note: the blocking reason stays until the block is lifted.

    Every status reply comes here, so the two rows are two prebuilt Core statements (the
    history row, then the whole changed assignment row with the state its history now gives,
    ``storage.history_state``), and ``assignment`` takes the values written (an ORM object as
    its committed state: as ORM objects they cost a flush of their own). An assignment with
    other changes pending in the session, or an update older than the latest one kept, goes
    through the ORM instead, whose flush hook replays the history.
    """
    assert assignment.id is not None
    loaded = _loaded(session, assignment)
    # The session's ORM copy, where it holds one, is what its flushes have kept up to date
    # (the history hook among them): the change is read against it, not against the values.
    current = loaded if loaded is not None else assignment
    dirty = loaded is not None and session.is_modified(loaded)  # pending changes: the ORM
    if not dirty and session.get_bind().dialect.name == "postgresql":
        # Several workers: another transaction may have changed the row since it was read
        # (READ COMMITTED). Locked and read again, the row written is that one plus this
        # change. SQLite needs no lock: the transaction's first statement took the write lock.
        if isinstance(current, Assignment):
            session.refresh(current, with_for_update=True)
        else:
            read_locked(session_connection(session), current)
    changes = _changes(current, status, percent, note, source.now)
    row = {
        "assignment_id": assignment.id,
        "official_id": source.official_id,
        "status": changes.get("status", current.status),
        "percent": percent if status != AssignmentStatus.DONE else 100,
        "note": note[:NOTE_LIMIT] if note else None,
        "note_only": status is None,
        "channel": source.channel,
        "external_message_id": source.message_id,
        "created_at": source.now,
    }
    if dirty or not history_state.kept_as_read(session, current, source.now):
        target = loaded or session.get_one(Assignment, assignment.id)
        for name, value in changes.items():
            setattr(target, name, value)
        session.add(target)
        session.add(ProgressUpdate(**row))
        _took(assignment, changes)
        return
    changes |= history_state.after_update(current, row["status"], row["percent"], source.now)
    connection = session_connection(session)
    _INSERT_UPDATE.run(connection, row)
    _update_of(changes).run(connection, assignment.id, changes)
    if loaded is not None:  # the session's own copy, if it has one, agrees with the row
        for name, value in changes.items():
            set_committed_value(loaded, name, value)
    _took(assignment, changes)


def _loaded(session: Session, assignment: Assignment | AssignmentValues) -> Assignment | None:
    """The session's ORM object of the assignment: the one given, or the one its identity map
    holds for plain values (None: it holds none)."""
    if isinstance(assignment, Assignment):
        return assignment
    found = session.identity_map.get(identity_key(Assignment, assignment.id))
    return found if isinstance(found, Assignment) else None


def _took(assignment: Assignment | AssignmentValues, changes: Mapping[str, Any]) -> None:
    """Plain values take what was written (what they hold of it): the confirmation reads them."""
    if isinstance(assignment, AssignmentValues):
        for name in VALUE_NAMES.intersection(changes):
            setattr(assignment, name, changes[name])


def _changes(
    assignment: Assignment | AssignmentValues,
    status: str | None,
    percent: int | None,
    note: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The assignment's columns after the change (``record_progress``'s rules)."""
    keeps_reason = status is None and assignment.status == AssignmentStatus.BLOCKED
    changes: dict[str, Any] = {"last_update_at": now}
    if status is not None:
        changes["status"] = status
    if status == AssignmentStatus.DONE:
        changes["percent"] = 100
        changes["done_at"] = now
    elif percent is not None:
        changes["percent"] = percent
    if status is not None and status != AssignmentStatus.DONE:
        changes["done_at"] = None
    if note and not keeps_reason:
        changes["note"] = note[:NOTE_LIMIT]
    elif status == AssignmentStatus.DONE:
        changes["note"] = None  # a blocking reason no longer applies
    return changes


_PROGRESS: Table = ProgressUpdate.__table__  # type: ignore[attr-defined]
_ASSIGNMENT: Table = Assignment.__table__  # type: ignore[attr-defined]
_INSERT_UPDATE = Prepared(insert(_PROGRESS), keyed=True)  # every status reply writes one
# What a change may write on the assignment row: its own five columns and the kept state.
_WRITTEN = ("status", "percent", "note", "done_at", "last_update_at", *history_state.KEPT)
_UPDATES: dict[tuple[str, ...], UpdateById] = {}


def _update_of(changes: Mapping[str, Any]) -> UpdateById:
    """The UPDATE of exactly the changed columns, built once per set of them (a handful:
    which of its own columns a change sets, and which periods it begins). Every column
    unchanged was a bound parameter for nothing: most are the kept periods' datetimes."""
    names = tuple(name for name in _WRITTEN if name in changes)
    if len(names) != len(changes):
        raise ValueError(f"not an assignment column written here: {sorted(changes)}")
    statement = _UPDATES.get(names)
    if statement is None:
        statement = _UPDATES[names] = UpdateById(_ASSIGNMENT, names)
    return statement


def record_evidence(
    session: Session,
    assignment: Assignment | AssignmentValues,
    files: Iterable[EvidenceFile],
    caption: str | None,
    source: Source,
) -> list[Evidence]:
    """Store the channel's file ids against the assignment (flushed); evidence is news, so
    the assignment is no longer silent."""
    assert assignment.id is not None and source.channel is not None
    rows = [
        Evidence(
            assignment_id=assignment.id,
            official_id=source.official_id,
            channel=source.channel,
            file_id=file.file_id,
            file_unique_id=file.file_unique_id,
            file_name=file.file_name,
            mime_type=file.mime_type,
            file_size=file.file_size,
            caption=caption,
            external_message_id=source.message_id,
            stored_path=file.stored_path,
            fetch_error=file.fetch_error,
            created_at=source.now,
        )
        for file in files
    ]
    session.add_all(rows)
    loaded = _loaded(session, assignment) or session.get_one(Assignment, assignment.id)
    loaded.last_update_at = assignment.last_update_at = source.now
    session.add(loaded)
    session.flush()
    return rows


def assign_officials(
    session: Session,
    assignment_id: int,
    official_ids: Sequence[int],
    assigned_by_id: int | None,
    now: datetime,
) -> list[int]:
    """Add officials to an assignment (flushed); the ids that were not on it before, in the
    order given."""
    already = set(
        session.exec(
            select(AssignmentOfficial.official_id).where(
                AssignmentOfficial.assignment_id == assignment_id
            )
        ).all()
    )
    added = [oid for oid in dict.fromkeys(official_ids) if oid not in already]
    session.add_all(
        AssignmentOfficial(
            assignment_id=assignment_id,
            official_id=oid,
            assigned_at=now,
            assigned_by_id=assigned_by_id,
        )
        for oid in added
    )
    session.flush()
    return added
