"""Taking people and units out: deactivate an official, remove a unit.

Nothing that carries history is deleted. A deactivated official keeps their past updates;
their assignments go back to the unit's chair (who may give them to someone else), and the
bot stops writing to them. A unit is removed only when nothing depends on it: no units under
it, no officials, no assignment with a reported update or evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import Session, col, func, select

from storage.models import (
    Assignment,
    AssignmentOfficial,
    AuditEntry,
    Evidence,
    Official,
    OutboxMessage,
    Plan,
    ProgressUpdate,
    ReminderLog,
    Score,
    TaskAgency,
    Unit,
)


@dataclass(frozen=True, slots=True)
class UnitDependents:
    """What keeps a unit from being removed (all zero: it may go)."""

    children: int = 0
    officials: int = 0
    worked_assignments: int = 0  # with a progress update or evidence
    plans_and_scores: int = 0  # plans of a province, published scores of the unit

    @property
    def blocking(self) -> bool:
        return bool(
            self.children or self.officials or self.worked_assignments or self.plans_and_scores
        )


def deactivate_official(session: Session, official: Official) -> int:
    """Deactivate; their assignments return to the unit's chair. Returns how many."""
    released = session.exec(
        select(func.count())
        .select_from(AssignmentOfficial)
        .where(AssignmentOfficial.official_id == official.id)
    ).one()
    session.execute(
        delete(AssignmentOfficial).where(col(AssignmentOfficial.official_id) == official.id)
    )
    official.active = False
    session.add(official)
    session.flush()
    return int(released)


def _worked(session: Session, assignment_ids: list[int]) -> set[int]:
    if not assignment_ids:
        return set()
    found = set(
        session.exec(
            select(ProgressUpdate.assignment_id).where(
                col(ProgressUpdate.assignment_id).in_(assignment_ids)
            )
        ).all()
    )
    found |= set(
        session.exec(
            select(Evidence.assignment_id).where(col(Evidence.assignment_id).in_(assignment_ids))
        ).all()
    )
    return found


def unit_dependents(session: Session, unit: Unit) -> UnitDependents:
    children = session.exec(
        select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id)
    ).one()
    officials = session.exec(
        select(func.count()).select_from(Official).where(Official.unit_id == unit.id)
    ).one()
    plans = session.exec(
        select(func.count()).select_from(Plan).where(Plan.province_id == unit.id)
    ).one()
    scores = session.exec(
        select(func.count()).select_from(Score).where(Score.unit_id == unit.id)
    ).one()
    ids = _assignment_ids(session, unit)
    return UnitDependents(
        int(children), int(officials), len(_worked(session, ids)), int(plans) + int(scores)
    )


def _assignment_ids(session: Session, unit: Unit) -> list[int]:
    rows = session.exec(select(Assignment.id).where(Assignment.unit_id == unit.id)).all()
    return [row for row in rows if row is not None]


def remove_unit(session: Session, unit: Unit) -> UnitDependents:
    """Remove the unit and its untouched assignments, unless something depends on it (then
    nothing changes and the dependents are returned)."""
    found = unit_dependents(session, unit)
    if found.blocking:
        return found
    ids = _assignment_ids(session, unit)
    if ids:
        # Rows that only point at these assignments: pending messages, reminder keys.
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.assignment_id).in_(ids))
            .values(assignment_id=None)
        )
        session.execute(delete(ReminderLog).where(col(ReminderLog.assignment_id).in_(ids)))
        session.execute(
            delete(AssignmentOfficial).where(col(AssignmentOfficial.assignment_id).in_(ids))
        )
        session.execute(delete(Assignment).where(col(Assignment.id).in_(ids)))
    # The plan still names the agency: it becomes unresolved, as if the unit never matched.
    session.execute(
        update(TaskAgency).where(col(TaskAgency.unit_id) == unit.id).values(unit_id=None)
    )
    # The console's audit entries about it stay, filed under the unit above (still visible
    # to whoever sees that area; the audit log is never cut).
    session.execute(
        update(AuditEntry).where(col(AuditEntry.unit_id) == unit.id).values(unit_id=unit.parent_id)
    )
    session.delete(unit)
    session.flush()
    return found
