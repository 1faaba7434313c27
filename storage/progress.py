"""Work on an assignment: a progress update, evidence files, the officials a chair hands it
to. Every change to an assignment's status, percent or note is written here, with its
``ProgressUpdate`` row, so the history and the current state cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, select

from storage.models import (
    Assignment,
    AssignmentOfficial,
    AssignmentStatus,
    Evidence,
    ProgressUpdate,
)

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
    assignment: Assignment,
    status: str | None,
    percent: int | None,
    note: str | None,
    source: Source,
) -> ProgressUpdate:
    """Apply a change (``status`` None: a note only) and log it. Not flushed: the
    transaction's next query, flush or commit writes both rows (one flush per message).

    Done means 100 % and a done time; any other status clears the done time; a note replaces
    the assignment's note, and "done" without one clears a blocking reason. A note alone on a
    blocked assignment is a note: the blocking reason stays until the block is lifted.
    """
    keeps_reason = status is None and assignment.status == AssignmentStatus.BLOCKED
    if status is not None:
        assignment.status = status
    if status == AssignmentStatus.DONE:
        assignment.percent = 100
        assignment.done_at = source.now
    elif percent is not None:
        assignment.percent = percent
    if status is not None and status != AssignmentStatus.DONE:
        assignment.done_at = None
    if note and not keeps_reason:
        assignment.note = note[:NOTE_LIMIT]
    elif status == AssignmentStatus.DONE:
        assignment.note = None  # a blocking reason no longer applies
    assignment.last_update_at = source.now
    session.add(assignment)
    assert assignment.id is not None
    update = ProgressUpdate(
        assignment_id=assignment.id,
        official_id=source.official_id,
        status=assignment.status,
        percent=percent if status != AssignmentStatus.DONE else 100,
        note=note[:NOTE_LIMIT] if note else None,
        note_only=status is None,
        channel=source.channel,
        external_message_id=source.message_id,
        created_at=source.now,
    )
    session.add(update)
    return update


def record_evidence(
    session: Session,
    assignment: Assignment,
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
    assignment.last_update_at = source.now
    session.add(assignment)
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
