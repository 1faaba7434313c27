"""The web console's writes: one-time sign-in codes, the audit log, and editing officials.

Storage stays the only writer: the console's views call these functions inside one
``session_scope`` and never touch the tables themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select, update

from kernel.i18n import _
from kernel.textnorm import nfc
from storage.models import (
    ROLES,
    Assignment,
    AssignmentOfficial,
    AuditEntry,
    ConsoleLoginCode,
    Evidence,
    Official,
    ProgressUpdate,
    Role,
    Task,
    Unit,
)

CONSOLE_ROLES = (Role.COORDINATOR, Role.ADMIN)
LOGIN_CODE_DIGITS = 6
LOGIN_CODE_TTL = timedelta(minutes=10)
LOGIN_CODE_PAUSE = timedelta(seconds=60)  # at most one code a minute per person
MAX_CODE_ATTEMPTS = 5  # then the code is spent: a 6-digit code cannot be guessed in 5 tries


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")


def may_use_console(official: Official | None) -> bool:
    return official is not None and official.active and official.role in CONSOLE_ROLES


def create_login_code(session: Session, official: Official, now: datetime) -> str:
    """A fresh 6-digit code for ``official``; earlier live codes stop working."""
    _require_aware(now)
    if not may_use_console(official):
        raise ValueError(_("only active coordinators and admins can sign in to the console"))
    assert official.id is not None
    session.execute(
        update(ConsoleLoginCode)
        .where(col(ConsoleLoginCode.official_id) == official.id)
        .where(col(ConsoleLoginCode.used_at).is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**LOGIN_CODE_DIGITS):0{LOGIN_CODE_DIGITS}d}"
    session.add(
        ConsoleLoginCode(
            official_id=official.id,
            code_hash=_hash(code),
            created_at=now,
            expires_at=now + LOGIN_CODE_TTL,
        )
    )
    session.flush()
    return code


def code_sent_recently(session: Session, official: Official, now: datetime) -> bool:
    """A code went out less than LOGIN_CODE_PAUSE ago: the form cannot flood a chat."""
    last = session.exec(
        select(ConsoleLoginCode.created_at)
        .where(col(ConsoleLoginCode.official_id) == official.id)
        .order_by(col(ConsoleLoginCode.id).desc())
    ).first()
    return last is not None and last > now - LOGIN_CODE_PAUSE


def redeem_login_code(session: Session, official: Official, code: str, now: datetime) -> bool:
    """Spend ``code`` if it is the official's live code; a wrong guess counts an attempt."""
    _require_aware(now)
    if not may_use_console(official):
        return False
    live = session.exec(
        select(ConsoleLoginCode)
        .where(col(ConsoleLoginCode.official_id) == official.id)
        .where(col(ConsoleLoginCode.used_at).is_(None))
        .where(col(ConsoleLoginCode.expires_at) > now)
        .order_by(col(ConsoleLoginCode.id).desc())
    ).first()
    if live is None:
        return False
    typed = "".join(ch for ch in code if ch.isdigit())
    if typed and hmac.compare_digest(live.code_hash, _hash(typed)):
        live.used_at = now
        session.add(live)
        return True
    live.attempts += 1
    if live.attempts >= MAX_CODE_ATTEMPTS:
        live.used_at = now
    session.add(live)
    return False


def audit(
    session: Session,
    official: Official | None,
    action: str,
    now: datetime,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
    unit_id: int | None = None,
) -> None:
    """Record one change made in the console (in the caller's transaction)."""
    _require_aware(now)
    session.add(
        AuditEntry(
            official_id=official.id if official else None,
            action=action,
            target=target[:255],
            detail=detail,
            unit_id=unit_id if unit_id is not None else (official.unit_id if official else None),
            at=now,
        )
    )


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    who: str
    action: str
    target: str
    detail: dict[str, Any] | None


def audit_entries(session: Session, root: Unit | None, limit: int = 200) -> list[AuditRow]:
    """The newest entries first; with ``root``, only those about units of its subtree."""
    query = (
        select(AuditEntry, Official.name)
        .join(Official, col(Official.id) == col(AuditEntry.official_id), isouter=True)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    if root is not None:
        query = query.join(Unit, col(Unit.id) == col(AuditEntry.unit_id)).where(
            col(Unit.path).startswith(root.path)
        )
    return [
        AuditRow(entry.at, name or "—", entry.action, entry.target, entry.detail)
        for entry, name in session.exec(query).all()
    ]


def update_official(
    session: Session,
    official: Official,
    *,
    name: str,
    role: str,
    unit: Unit,
    active: bool,
) -> dict[str, tuple[Any, Any]]:
    """Change an official's name, role, unit or active flag; returns what changed
    (field -> (before, after)) for the audit log. ValueError (translated) on a bad value.
    Deactivated, or moved away, the official stops carrying their old unit's assignments."""
    clean = nfc(name)
    if not clean:
        raise ValueError(_("the name is empty"))
    if role not in ROLES:
        raise ValueError(_("unknown role %(role)s") % {"role": repr(role)})
    assert unit.id is not None
    changes: dict[str, tuple[Any, Any]] = {}
    for field, value in (("name", clean), ("role", role), ("unit_id", unit.id), ("active", active)):
        before = getattr(official, field)
        if before != value:
            changes[field] = (before, value)
            setattr(official, field, value)
    if changes:
        session.add(official)
        session.flush()
    if "active" in changes and not active:
        released = release_assignments(session, official)
    elif "unit_id" in changes:
        released = release_assignments(session, official, keep_unit_id=unit.id)
    else:
        released = 0
    if released:  # for the audit log: how many tasks went back to the chair
        changes["tasks_to_chair"] = (None, released)
    return changes


def release_assignments(
    session: Session, official: Official, *, keep_unit_id: int | None = None
) -> int:
    """The official no longer carries the assignments (all of them, or those outside
    ``keep_unit_id``, their new unit): they go back to their unit's chair, as when
    ``storage.retire.deactivate_official`` runs. Returns how many."""
    query = select(AssignmentOfficial).where(AssignmentOfficial.official_id == official.id)
    if keep_unit_id is not None:
        query = query.join(
            Assignment, col(Assignment.id) == col(AssignmentOfficial.assignment_id)
        ).where(col(Assignment.unit_id) != keep_unit_id)
    rows = list(session.exec(query).all())
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def officials_by_ids(session: Session, ids: Sequence[int]) -> list[Official]:
    if not ids:
        return []
    return list(session.exec(select(Official).where(col(Official.id).in_(list(ids)))).all())


# ---------------------------------------------------------------- reading for the console


@dataclass(frozen=True)
class AssignmentLine:
    assignment: Assignment
    unit: Unit


def task_assignments(session: Session, task_id: int, root: Unit) -> list[AssignmentLine]:
    """The task's assignments to units of ``root``'s subtree, in tree order."""
    rows = session.exec(
        select(Assignment, Unit)
        .join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .where(col(Assignment.task_id) == task_id)
        .where(col(Unit.path).startswith(root.path))
        .order_by(col(Unit.path))
    ).all()
    return [AssignmentLine(assignment, unit) for assignment, unit in rows]


@dataclass(frozen=True)
class AssignmentDetail:
    assignment: Assignment
    task: Task
    unit: Unit
    updates: list[tuple[ProgressUpdate, str | None]]
    evidence: list[tuple[Evidence, str | None]]
    assignees: list[str]


def assignment_detail(session: Session, assignment_id: int) -> AssignmentDetail | None:
    """An assignment with every progress update and piece of evidence, newest first."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        return None
    task = session.get(Task, assignment.task_id)
    unit = session.get(Unit, assignment.unit_id)
    if task is None or unit is None:
        return None
    updates = session.exec(
        select(ProgressUpdate, Official.name)
        .join(Official, col(Official.id) == col(ProgressUpdate.official_id), isouter=True)
        .where(col(ProgressUpdate.assignment_id) == assignment_id)
        .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
    ).all()
    evidence = session.exec(
        select(Evidence, Official.name)
        .join(Official, col(Official.id) == col(Evidence.official_id), isouter=True)
        .where(col(Evidence.assignment_id) == assignment_id)
        .order_by(col(Evidence.created_at).desc())
    ).all()
    assignees = session.exec(
        select(Official.name)
        .join(AssignmentOfficial, col(AssignmentOfficial.official_id) == col(Official.id))
        .where(col(AssignmentOfficial.assignment_id) == assignment_id)
        .order_by(col(Official.name))
    ).all()
    return AssignmentDetail(
        assignment,
        task,
        unit,
        [(u, n) for u, n in updates],
        [(e, n) for e, n in evidence],
        list(assignees),
    )


def units_in(session: Session, root: Unit) -> list[Unit]:
    """``root`` and every unit below it, in tree order (for pickers)."""
    return list(
        session.exec(
            select(Unit).where(col(Unit.path).startswith(root.path)).order_by(col(Unit.path))
        ).all()
    )


def evidence_with_unit(session: Session, evidence_id: int) -> tuple[Evidence, Unit] | None:
    """A piece of evidence and the unit whose assignment it belongs to (for the permission)."""
    row = session.exec(
        select(Evidence, Unit)
        .join(Assignment, col(Assignment.id) == col(Evidence.assignment_id))
        .join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .where(col(Evidence.id) == evidence_id)
    ).first()
    return (row[0], row[1]) if row else None
