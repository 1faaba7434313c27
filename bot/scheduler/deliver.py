"""Who hears about what, and the outbox rows that carry it.

Recipients of an assignment: its officials (``AssignmentOfficial``), else the chairs of its
unit. Escalations climb the tree: the unit's chairs, then the nearest ancestor (district,
else province) that has a coordinator. (``record.write`` writes the outbox rows.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, col, select

from storage.models import AssignmentOfficial, Official, Role, Unit


def assigned_officials(
    session: Session, assignment_ids: Iterable[int]
) -> dict[int, list[Official]]:
    """Active officials explicitly assigned, per assignment id (ordered by official id)."""
    ids = list(set(assignment_ids))
    out: dict[int, list[Official]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(AssignmentOfficial.assignment_id, Official)
            .join(Official, col(Official.id) == AssignmentOfficial.official_id)
            .where(col(AssignmentOfficial.assignment_id).in_(ids[start : start + 500]))
            .where(col(Official.active).is_(True))
            .order_by(col(Official.id))
        ).all()
        for assignment_id, official in rows:
            out[assignment_id].append(official)
    return dict(out)


def officials_with_role(
    session: Session, unit_ids: Iterable[int], role: str
) -> dict[int, list[Official]]:
    """Active officials of ``role`` per unit id."""
    ids = list(set(unit_ids))
    out: dict[int, list[Official]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Official)
            .where(col(Official.unit_id).in_(ids[start : start + 500]))
            .where(Official.role == role, col(Official.active).is_(True))
            .order_by(col(Official.id))
        ).all()
        for official in rows:
            out[official.unit_id].append(official)
    return dict(out)


def coordinators_above(session: Session, unit: Unit) -> list[Official]:
    """Coordinators of the nearest ancestor that has any (district office, else province)."""
    ancestor_ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    ancestor_ids = [uid for uid in ancestor_ids if uid != unit.id]
    found = officials_with_role(session, ancestor_ids, Role.COORDINATOR)
    for unit_id in reversed(ancestor_ids):
        if found.get(unit_id):
            return found[unit_id]
    return []
