"""The administrative tree: lookups, subtrees by materialised path, and the CSV import.

A unit's ``path`` is ``/<root id>/.../<own id>/``, so a subtree is one indexed
``path LIKE '/1/7/%'`` scan at any depth: province → district → commune (before 2025) and
province → commune (since 2025) are the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from kernel.i18n import N_, _
from kernel.textnorm import fold, nfc
from storage.csvrows import CsvRow, ImportRefused, RowError, read_csv
from storage.models import UNIT_LEVELS, Unit, UnitLevel

UNIT_COLUMNS = ("code", "name", "level", "parent_code")
MAX_CODE_LENGTH = 32
MAX_NAME_LENGTH = 255
# What each level may sit under. A province is a root; communes hang under a district (three
# levels) or directly under the province (two levels, since 1 July 2025).
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    UnitLevel.PROVINCE: frozenset(),
    UnitLevel.DISTRICT: frozenset({UnitLevel.PROVINCE}),
    UnitLevel.COMMUNE: frozenset({UnitLevel.PROVINCE, UnitLevel.DISTRICT}),
    UnitLevel.DEPARTMENT: frozenset({UnitLevel.PROVINCE, UnitLevel.DISTRICT}),
}
# Admins also write the level in Vietnamese; matched after textnorm.fold.
_LEVEL_WORDS: dict[str, UnitLevel] = {
    "tinh": UnitLevel.PROVINCE,
    "thanh pho truc thuoc trung uong": UnitLevel.PROVINCE,
    "huyen": UnitLevel.DISTRICT,
    "quan": UnitLevel.DISTRICT,
    "thi xa": UnitLevel.DISTRICT,
    "xa": UnitLevel.COMMUNE,
    "phuong": UnitLevel.COMMUNE,
    "thi tran": UnitLevel.COMMUNE,
    "dac khu": UnitLevel.COMMUNE,
    "so": UnitLevel.DEPARTMENT,
    "so, nganh": UnitLevel.DEPARTMENT,
}


# How a level is named in messages (the CSV keeps the English keywords).
LEVEL_LABELS: dict[str, str] = {
    UnitLevel.PROVINCE: N_("province"),
    UnitLevel.DISTRICT: N_("district"),
    UnitLevel.COMMUNE: N_("commune"),
    UnitLevel.DEPARTMENT: N_("department"),
}


def level_label(level: str) -> str:
    return _(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level


def parse_level(text: str) -> str | None:
    """``province`` for "province", "Tỉnh" or "tinh"; None when it is not a level."""
    folded = fold(text)
    if folded in UNIT_LEVELS:
        return UnitLevel(folded)
    return _LEVEL_WORDS.get(folded)


# ---------------------------------------------------------------- lookups for other modules


def get_unit_by_code(session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == nfc(code))).first()


def units_under(session: Session, root: Unit, level: str | None = None) -> list[Unit]:
    """Every unit below ``root`` at any depth (not ``root`` itself), optionally one level."""
    if not root.path:
        raise ValueError(f"unit {root.code} has no path: was it added with add_unit()?")
    query = select(Unit).where(col(Unit.path).startswith(root.path)).where(Unit.id != root.id)
    if level is not None:
        query = query.where(Unit.level == level)
    return list(session.exec(query.order_by(col(Unit.path))).all())


def province_of(session: Session, unit: Unit) -> Unit | None:
    """The province ``unit`` belongs to (itself if it is one); None for a detached unit."""
    if unit.level == UnitLevel.PROVINCE:
        return unit
    ancestor_ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    if not ancestor_ids:
        return None
    provinces = session.exec(
        select(Unit).where(col(Unit.id).in_(ancestor_ids)).where(Unit.level == UnitLevel.PROVINCE)
    ).all()
    by_id = {province.id: province for province in provinces}
    for unit_id in reversed(ancestor_ids):  # the nearest one, should provinces ever nest
        if unit_id in by_id:
            return by_id[unit_id]
    return None


def add_unit(session: Session, code: str, name: str, level: str, parent: Unit | None) -> Unit:
    """Insert one unit with its folded name and path (flushes to learn its id)."""
    if level not in UNIT_LEVELS:
        raise ValueError(f"unknown unit level {level!r}; expected one of {UNIT_LEVELS}")
    if parent is not None and not parent.path:
        raise ValueError(f"parent unit {parent.code} has no path")
    clean_name = nfc(name)
    unit = Unit(
        code=nfc(code),
        name=clean_name,
        name_folded=fold(clean_name),
        level=level,
        parent_id=parent.id if parent else None,
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.add(unit)
    session.flush()
    return unit


def list_units(session: Session) -> list[Unit]:
    return list(session.exec(select(Unit).order_by(col(Unit.path))).all())


def tree_order(units: Sequence[Unit]) -> list[tuple[int, Unit]]:
    """(depth, unit) in depth-first order, siblings by level then code: for ``--tree``."""
    children: dict[int | None, list[Unit]] = {}
    known = {unit.id for unit in units}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in known else None
        children.setdefault(parent, []).append(unit)
    for siblings in children.values():
        siblings.sort(key=lambda unit: (UNIT_LEVELS.index(unit.level), unit.code))
    ordered: list[tuple[int, Unit]] = []
    stack = [(0, unit) for unit in reversed(children.get(None, []))]
    while stack:
        depth, unit = stack.pop()
        ordered.append((depth, unit))
        stack.extend((depth + 1, child) for child in reversed(children.get(unit.id, [])))
    return ordered


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class UnitRow:
    line: int
    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True)
class _Known:
    """A unit already in the database, as the import needs it."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str


@dataclass(frozen=True)
class ImportCounts:
    added: int
    updated: int
    unchanged: int


def _check_row(row: CsvRow) -> tuple[UnitRow | None, list[RowError]]:
    errors: list[RowError] = []
    code, name, parent_code = row.get("code"), row.get("name"), row.get("parent_code")
    level = parse_level(row.get("level"))
    if not code:
        errors.append(RowError(row.line, _("the code is empty")))
    elif len(code) > MAX_CODE_LENGTH:
        errors.append(RowError(row.line, _("the code is longer than 32 characters")))
    if not name:
        errors.append(RowError(row.line, _("the name is empty")))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(RowError(row.line, _("the name is longer than 255 characters")))
    if level is None:
        errors.append(
            RowError(
                row.line,
                _("unknown level %(level)s (expected province, district, commune or department)")
                % {"level": repr(row.get("level"))},
            )
        )
    if code and parent_code == code:
        errors.append(RowError(row.line, _("a unit cannot be its own parent")))
    if errors or level is None:
        return None, errors
    return UnitRow(row.line, code, name, level, parent_code), []


def _known_units(session: Session) -> dict[str, _Known]:
    columns = (Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent_id, Unit.path)
    rows = session.execute(sa_select(*(col(column) for column in columns))).all()
    return {row.code: _Known(*row) for row in rows}


def _check_parents(
    rows: dict[str, UnitRow], known: dict[str, _Known], broken: set[str]
) -> list[RowError]:
    """Parents exist, levels fit, no cycles: on the tree as it will be after the import."""
    code_of_id = {unit.id: unit.code for unit in known.values()}
    level = {code: unit.level for code, unit in known.items()} | {
        code: row.level for code, row in rows.items()
    }
    parent: dict[str, str | None] = {
        code: code_of_id.get(unit.parent_id) if unit.parent_id else None
        for code, unit in known.items()
    } | {code: row.parent_code or None for code, row in rows.items()}
    errors: list[RowError] = []
    for code, row in rows.items():
        parent_code = parent[code]
        if parent_code is None:
            if row.level != UnitLevel.PROVINCE:
                errors.append(
                    RowError(
                        row.line,
                        _("a unit of level %(level)s needs a parent_code")
                        % {"level": level_label(row.level)},
                    )
                )
            continue
        if parent_code not in level:
            if parent_code in broken:  # that row's own error is reported already
                continue
            errors.append(
                RowError(
                    row.line,
                    _("unknown parent %(parent)s: it is neither in the file nor in the database")
                    % {"parent": parent_code},
                )
            )
        elif level[parent_code] not in ALLOWED_PARENTS[row.level]:
            errors.append(_level_error(row.line, code, row.level, parent_code, level[parent_code]))
    # Units already in the database whose parent changes level in this file.
    for code, unit in known.items():
        parent_code = parent[code]
        if code in rows or parent_code not in rows:
            continue
        if level[parent_code] not in ALLOWED_PARENTS[unit.level]:
            line = rows[parent_code].line
            errors.append(_level_error(line, code, unit.level, parent_code, level[parent_code]))
    errors.extend(_find_cycles(rows, parent))
    return errors


def _level_error(line: int, code: str, level: str, parent: str, parent_level: str) -> RowError:
    return RowError(
        line,
        _("%(code)s (level %(level)s) cannot be under %(parent)s (level %(parent_level)s)")
        % {
            "code": code,
            "level": level_label(level),
            "parent": parent,
            "parent_level": level_label(parent_level),
        },
    )


def _find_cycles(rows: dict[str, UnitRow], parent: dict[str, str | None]) -> list[RowError]:
    errors: list[RowError] = []
    settled: set[str] = set()  # codes whose ancestry reaches a root
    for start in rows:
        trail: list[str] = []
        seen: set[str] = set()
        code: str | None = start
        while code is not None and code not in settled and code in parent:
            if code in seen:
                loop = trail[trail.index(code) :]
                if start == min(loop, key=lambda c: rows[c].line if c in rows else 1 << 62):
                    errors.append(
                        RowError(
                            rows[start].line,
                            _("the parents form a cycle: %(cycle)s")
                            % {"cycle": " → ".join([*loop, code])},
                        )
                    )
                break
            seen.add(code)
            trail.append(code)
            code = parent[code]
        else:
            settled.update(trail)
    return errors


def check_unit_rows(
    session: Session, csv_rows: Sequence[CsvRow]
) -> tuple[dict[str, UnitRow], dict[str, _Known]]:
    """Validate every row against the file and the database; ImportRefused lists all errors."""
    errors: list[RowError] = []
    rows: dict[str, UnitRow] = {}
    broken: set[str] = set()  # codes of rows refused for their own reasons
    for csv_row in csv_rows:
        row, row_errors = _check_row(csv_row)
        errors.extend(row_errors)
        if row is None:
            broken.add(csv_row.get("code"))
            continue
        if row.code in rows:
            errors.append(
                RowError(
                    row.line,
                    _("code %(code)s already appears on line %(first)s")
                    % {"code": row.code, "first": rows[row.code].line},
                )
            )
            continue
        rows[row.code] = row
    known = _known_units(session)
    errors.extend(_check_parents(rows, known, broken))
    if errors:
        raise ImportRefused(errors)
    return rows, known


def import_units(session: Session, csv_rows: Sequence[CsvRow]) -> ImportCounts:
    """Insert or update the units of a file in bulk; nothing is written if any row is bad."""
    rows, known = check_unit_rows(session, csv_rows)
    new = [row for code, row in rows.items() if code not in known]
    if new:
        session.execute(
            insert(Unit),
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "name_folded": fold(r.name),
                    "level": r.level,
                    "path": "",
                }
                for r in new
            ],
        )
    id_of = {code: uid for uid, code in session.exec(select(Unit.id, Unit.code)).all() if uid}
    parent_id = {unit.id: unit.parent_id for unit in known.values()}
    for code, unit_row in rows.items():
        parent_id[id_of[code]] = id_of[unit_row.parent_code] if unit_row.parent_code else None
    changes, updated = _changes(rows, known, parent_id)
    if changes:
        session.execute(update(Unit), changes)
    session.expire_all()  # ORM objects loaded earlier must not show the old paths
    return ImportCounts(len(new), updated, len(rows) - len(new) - updated)


def _changes(
    rows: dict[str, UnitRow], known: dict[str, _Known], parent_id: dict[int, int | None]
) -> tuple[list[dict[str, object]], int]:
    """Bulk-update rows (by id) for every unit whose parent, path, name or level changes,
    and how many of the file's existing units changed."""
    old = {unit.id: unit for unit in known.values()}
    changes: list[dict[str, object]] = []
    updated = 0
    for uid, path in _paths(parent_id).items():
        before = old.get(uid)
        change: dict[str, object] = {}
        if before is None or (before.path, before.parent_id) != (path, parent_id[uid]):
            change.update(path=path, parent_id=parent_id[uid])
        row = rows.get(before.code) if before else None
        if before and row and (row.name, row.level) != (before.name, before.level):
            change.update(name=row.name, name_folded=fold(row.name), level=row.level)
        if change:
            changes.append({"id": uid, **change})
            updated += row is not None
    return changes, updated


def _paths(parent_id: dict[int, int | None]) -> dict[int, str]:
    """Materialised paths for the whole tree in memory (no query per row)."""
    paths: dict[int, str] = {}
    for start in parent_id:
        chain: list[int] = []
        node: int | None = start
        while node is not None and node not in paths:
            chain.append(node)
            node = parent_id.get(node)
        prefix = paths[node] if node is not None else "/"
        for unit_id in reversed(chain):
            prefix = f"{prefix}{unit_id}/"
            paths[unit_id] = prefix
    return paths


def import_units_file(session: Session, path: Path) -> ImportCounts:
    return import_units(session, read_csv(path, UNIT_COLUMNS))
