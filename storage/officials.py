"""Officials: adding one, importing a CSV list in bulk, listing by unit subtree.

Phones are stored in E.164 (``kernel.phones.normalize_phone``) and are unique: the phone is
how the admin names an official (``papi-bot invite 0912345678``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from kernel.i18n import SUPPORTED_LOCALES, _
from kernel.phones import mask_phone, normalize_phone
from kernel.textnorm import fold, nfc
from storage.csvrows import CsvRow, ImportRefused, RowError, read_csv
from storage.models import ROLES, Official, Role, Unit
from storage.units import ImportCounts

OFFICIAL_COLUMNS = ("name", "phone", "unit_code", "role", "locale")
DEFAULT_ROLE = Role.OFFICIAL
# Vietnamese words admins use in the role column, matched after textnorm.fold.
_ROLE_WORDS: dict[str, Role] = {
    "can bo": Role.OFFICIAL,
    "cong chuc": Role.OFFICIAL,
    "can bo, cong chuc": Role.OFFICIAL,
    "chu tich": Role.CHAIR,
    "pho chu tich": Role.CHAIR,
    "dau moi": Role.COORDINATOR,
    "dieu phoi": Role.COORDINATOR,
    "quan tri": Role.ADMIN,
}


def parse_role(text: str) -> str | None:
    """``chair`` for "chair", "Chủ tịch" or "chu tich"; the default for an empty cell."""
    folded = fold(text)
    if not folded:
        return DEFAULT_ROLE
    if folded in ROLES:
        return Role(folded)
    return _ROLE_WORDS.get(folded)


def parse_locale(text: str, default: str = "vi") -> str | None:
    folded = fold(text) or default
    return folded if folded in SUPPORTED_LOCALES else None


def get_official_by_phone(session: Session, phone: str) -> Official | None:
    """The official with this number however it is typed; ValueError if it is no number."""
    return session.exec(select(Official).where(Official.phone == normalize_phone(phone))).first()


def add_official(
    session: Session, name: str, phone: str, unit: Unit, role: str, locale: str
) -> Official:
    """Insert one official; ValueError (translated) if a value is wrong or the phone is taken."""
    clean_name = nfc(name)
    if not clean_name:
        raise ValueError(_("the name is empty"))
    e164 = normalize_phone(phone)
    if role not in ROLES:
        raise ValueError(_role_message(role))
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(_locale_message(locale))
    if session.exec(select(Official.id).where(Official.phone == e164)).first() is not None:
        raise ValueError(_("this phone number already belongs to another official"))
    if unit.id is None:
        raise ValueError("the unit has not been saved yet")
    official = Official(name=clean_name, phone=e164, unit_id=unit.id, role=role, locale=locale)
    session.add(official)
    session.flush()
    return official


def set_locale(session: Session, official_id: int, locale: str) -> None:
    """The language the official is written to in (written at once; a loaded ``Official``
    is updated too)."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(_locale_message(locale))
    session.execute(update(Official).where(col(Official.id) == official_id).values(locale=locale))


def _role_message(role: str) -> str:
    return _("unknown role %(role)s (expected official, chair, coordinator or admin)") % {
        "role": repr(role)
    }


def _locale_message(locale: str) -> str:
    return _("unknown locale %(locale)s (expected vi or en)") % {"locale": repr(locale)}


def officials_in(session: Session, unit: Unit | None = None) -> list[tuple[Official, Unit]]:
    """Officials with their units, of the whole country or of ``unit``'s subtree."""
    query = select(Official, Unit).join(Unit, col(Official.unit_id) == col(Unit.id))
    if unit is not None:
        query = query.where(col(Unit.path).startswith(unit.path))
    rows = session.exec(query.order_by(col(Unit.path), col(Official.role), col(Official.name)))
    return [(official, row_unit) for official, row_unit in rows.all()]


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class OfficialRow:
    line: int
    name: str
    phone: str  # E.164
    unit_id: int
    role: str
    locale: str


def _check_row(row: CsvRow, unit_ids: dict[str, int]) -> tuple[OfficialRow | None, list[RowError]]:
    errors: list[RowError] = []
    name, unit_code = row.get("name"), row.get("unit_code")
    if not name:
        errors.append(RowError(row.line, _("the name is empty")))
    phone = ""
    try:
        phone = normalize_phone(row.get("phone"))
    except ValueError as exc:
        errors.append(
            RowError(
                row.line,
                _("bad phone number %(phone)s: %(reason)s")
                % {"phone": repr(row.get("phone")), "reason": exc},
            )
        )
    unit_id = unit_ids.get(unit_code)
    if unit_id is None:
        errors.append(
            RowError(
                row.line,
                _("unknown unit %(code)s: import the units first") % {"code": repr(unit_code)},
            )
        )
    role = parse_role(row.get("role"))
    if role is None:
        errors.append(RowError(row.line, _role_message(row.get("role"))))
    locale = parse_locale(row.get("locale"))
    if locale is None:
        errors.append(RowError(row.line, _locale_message(row.get("locale"))))
    if errors or unit_id is None or role is None or locale is None:
        return None, errors
    return OfficialRow(row.line, name, phone, unit_id, role, locale), []


def check_official_rows(session: Session, csv_rows: Sequence[CsvRow]) -> list[OfficialRow]:
    """Validate every row; ImportRefused lists all problems with their line numbers."""
    unit_ids = {code: uid for uid, code in session.exec(select(Unit.id, Unit.code)).all() if uid}
    errors: list[RowError] = []
    rows: dict[str, OfficialRow] = {}
    for csv_row in csv_rows:
        row, row_errors = _check_row(csv_row, unit_ids)
        errors.extend(row_errors)
        if row is None:
            continue
        if row.phone in rows:
            errors.append(
                RowError(
                    row.line,
                    _("phone %(phone)s already appears on line %(first)s")
                    % {"phone": mask_phone(row.phone), "first": rows[row.phone].line},
                )
            )
            continue
        rows[row.phone] = row
    if errors:
        raise ImportRefused(errors)
    return list(rows.values())


def import_officials(session: Session, csv_rows: Sequence[CsvRow], now: datetime) -> ImportCounts:
    """Add new officials and update known ones (matched by phone), all or nothing."""
    rows = check_official_rows(session, csv_rows)
    columns = (
        Official.id,
        Official.phone,
        Official.name,
        Official.unit_id,
        Official.role,
        Official.locale,
    )
    existing = {
        phone: (oid, name, unit_id, role, locale)
        for oid, phone, name, unit_id, role, locale in session.execute(
            sa_select(*(col(column) for column in columns))
        ).all()
    }
    new = [row for row in rows if row.phone not in existing]
    changed = []
    for row in rows:
        known = existing.get(row.phone)
        if known and known[1:] != (row.name, row.unit_id, row.role, row.locale):
            changed.append(
                {
                    "id": known[0],
                    "name": row.name,
                    "unit_id": row.unit_id,
                    "role": row.role,
                    "locale": row.locale,
                }
            )
    if new:
        session.execute(
            insert(Official),
            [
                {
                    "name": r.name,
                    "phone": r.phone,
                    "unit_id": r.unit_id,
                    "role": r.role,
                    "locale": r.locale,
                    "active": True,
                    "created_at": now,
                }
                for r in new
            ],
        )
    if changed:
        session.execute(update(Official), changed)
    session.expire_all()
    return ImportCounts(len(new), len(changed), len(rows) - len(new) - len(changed))


def import_officials_file(session: Session, path: Path, now: datetime) -> ImportCounts:
    return import_officials(session, read_csv(path, OFFICIAL_COLUMNS), now)
