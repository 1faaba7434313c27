"""Who may see and change which assignment: by role and unit subtree, checked by every handler.

- official (and department staff): the assignments the chair gave them, plus the unassigned
  ones of their own unit when that unit has no chair (a department);
- chair: every assignment of their unit's subtree (their commune);
- coordinator: every assignment under their province or district (a coordinator sits in a
  department such as Sở Nội vụ, so the scope is the nearest province/district above them);
- admin: every assignment under their province.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists
from sqlmodel import Session, col, select

from storage.item_values import AssignmentValues
from storage.models import Assignment, AssignmentOfficial, Official, Role, Unit, UnitLevel
from storage.person import OfficialFacts
from storage.units import province_of

SCOPE_LEVELS = (UnitLevel.PROVINCE, UnitLevel.DISTRICT)


@dataclass(frozen=True, slots=True)
class Assignees:
    """Who an assignment is handed to, as far as ``owns`` asks: this official, anyone."""

    mine: bool
    anyone: bool


def unit_has_chair_clause(unit_id: int) -> ColumnElement[bool]:
    """SQL: the unit has an active chair (to ask inside another query)."""
    return (
        exists()
        .where(col(Official.unit_id) == unit_id)
        .where(col(Official.role) == Role.CHAIR)
        .where(col(Official.active).is_(True))
    )


def unit_has_chair(session: Session, unit_id: int) -> bool:
    found = session.exec(
        select(Official.id)
        .where(Official.unit_id == unit_id)
        .where(Official.role == Role.CHAIR)
        .where(col(Official.active).is_(True))
    ).first()
    return found is not None


def assignee_ids(session: Session, assignment_id: int) -> set[int]:
    rows = session.exec(
        select(AssignmentOfficial.official_id).where(
            AssignmentOfficial.assignment_id == assignment_id
        )
    ).all()
    return set(rows)


def _ancestor_ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def scope_root(session: Session, official: OfficialFacts) -> Unit | None:
    """The top of the subtree the official oversees; None for a plain official."""
    if official.role == Role.OFFICIAL:  # before any query: most senders are officials
        return None
    unit = session.get(Unit, official.unit_id)
    if unit is None:
        return None
    if official.role == Role.CHAIR:
        return unit
    if official.role == Role.ADMIN:
        return province_of(session, unit)
    for ancestor_id in reversed(_ancestor_ids(unit)):  # coordinator: nearest province/district
        ancestor = session.get(Unit, ancestor_id)
        if ancestor is not None and ancestor.level in SCOPE_LEVELS:
            return ancestor
    return None


def in_subtree(unit: Unit, root: Unit) -> bool:
    return bool(root.path) and unit.path.startswith(root.path)


def owns(
    session: Session,
    official: OfficialFacts,
    assignment: Assignment | AssignmentValues,
    assignees: Assignees | None = None,
) -> bool:
    """The assignment is on the official's own list ("my tasks"). ``assignees``: already
    read with the assignment (``queries.item_with_assignees``), else asked here."""
    assert assignment.id is not None
    if assignees is None:
        ids = assignee_ids(session, assignment.id)
        assignees = Assignees(mine=official.id in ids, anyone=bool(ids))
    if assignees.mine:
        return True
    if assignees.anyone or assignment.unit_id != official.unit_id:
        return False
    return official.role == Role.CHAIR or not unit_has_chair(session, official.unit_id)


def can_act(
    session: Session,
    official: OfficialFacts,
    assignment: Assignment | AssignmentValues,
    assignees: Assignees | None = None,
) -> bool:
    """May see the assignment and report on it."""
    if not official.active:
        return False
    if owns(session, official, assignment, assignees):
        return True
    root = scope_root(session, official)
    if root is None:
        return False
    unit = session.get(Unit, assignment.unit_id)
    return unit is not None and in_subtree(unit, root)


def can_assign(
    session: Session, official: OfficialFacts, assignment: Assignment | AssignmentValues
) -> bool:
    """Only a chair hands a task of their own unit (subtree) to its officials."""
    if official.role != Role.CHAIR or not official.active:
        return False
    unit = session.get(Unit, assignment.unit_id)
    root = session.get(Unit, official.unit_id)
    return unit is not None and root is not None and in_subtree(unit, root)
