"""Units in the console: the tree of the viewer's area (and its XLSX), and for an admin add,
edit (name, level, parent: a move), and remove.

Adding and editing write one row through ``storage.units.import_units``, so a unit changed in
the browser obeys the very rules of ``papi-bot units import`` (levels under the right
parents, no cycles, paths of the whole subtree rewritten on a move); removing uses
``storage.retire.remove_unit``, the rule of ``papi-bot units remove`` (only a unit nothing
depends on). Every change is in the audit log.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlmodel import Session, col, func, select

from bot.web.plans import require_admin
from bot.web.render import render
from bot.web.security import Viewer, require_unit, viewer
from bot.web.state import ConsoleState, state_of
from bot.web.tables import rows_xlsx, xlsx_response
from kernel.i18n import _
from storage.console import audit, units_in
from storage.csvrows import CsvRow, ImportRefused
from storage.db import session_scope
from storage.models import UNIT_LEVELS, Official, Unit
from storage.retire import remove_unit
from storage.units import import_units, level_label, tree_order

routes = web.RouteTableDef()


def unit_rows(state: ConsoleState, who: Viewer) -> list[dict[str, Any]]:
    """The viewer's units in tree order, each with its depth, parent and active officials."""
    with Session(state.engine, expire_on_commit=False) as session:
        units = units_in(session, who.root)
        ids = [u.id for u in units]
        people = dict(
            session.exec(
                select(Official.unit_id, func.count())
                .where(col(Official.unit_id).in_(ids), col(Official.active))
                .group_by(col(Official.unit_id))
            ).all()
        )
    name_of = {u.id: u.name for u in units}
    return [
        {
            "unit": unit,
            "depth": depth,
            "parent": name_of.get(unit.parent_id, ""),
            "officials": people.get(unit.id or 0, 0),
        }
        for depth, unit in tree_order(units)
    ]


@routes.get("/units")
async def units_page(request: web.Request) -> web.Response:
    state = state_of(request)
    rows = await state.db(unit_rows, state, viewer(request))
    return render(request, "units.html", {"rows": rows, "done": request.query.get("done", "")})


@routes.get("/units.xlsx")
async def units_file(request: web.Request) -> web.Response:
    state = state_of(request)
    rows = await state.db(unit_rows, state, viewer(request))
    header = [_("Code"), _("Unit"), _("Level"), _("Parent unit"), _("Active officials")]
    table = [
        [r["unit"].code, r["unit"].name, level_label(r["unit"].level), r["parent"], r["officials"]]
        for r in rows
    ]
    data = await state.db(rows_xlsx, "units", header, table)
    return xlsx_response(data, "papi-units.xlsx")


def _choices(state: ConsoleState, who: Viewer, unit_id: int | None) -> list[Unit]:
    """Parents to offer: the viewer's units, less the unit itself and its subtree."""
    with Session(state.engine, expire_on_commit=False) as session:
        units = units_in(session, who.root)
        unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        return units
    return [u for u in units if not u.path.startswith(unit.path)]


def _load(state: ConsoleState, request: web.Request, unit_id: int) -> Unit:
    with Session(state.engine, expire_on_commit=False) as session:
        return require_unit(request, session, unit_id)


def _context(
    unit: Unit | None, parents: list[Unit], form: dict[str, str], error: str | None
) -> dict[str, Any]:
    return {"unit": unit, "parents": parents, "levels": UNIT_LEVELS, "form": form, "error": error}


def _unit_form(unit: Unit, parent_code: str) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name, "level": unit.level, "parent": parent_code}


def save_unit(
    state: ConsoleState, request: web.Request, unit_id: int | None, form: dict[str, str]
) -> Unit:
    """Add (``unit_id`` None) or change one unit; ValueError (translated) when refused."""
    who = viewer(request)
    now = state.clock.now()
    with session_scope(state.engine) as session:
        before = require_unit(request, session, unit_id) if unit_id else None
        parent_text = form.get("parent", "")
        parent = require_unit(request, session, int(parent_text)) if parent_text.isdigit() else None
        if parent is None and (before is None or before.parent_id is not None):
            raise ValueError(_("Choose the unit above it."))
        code = before.code if before else form.get("code", "").strip()
        old = (before.name, before.level, before.parent_id) if before else None
        if before is None and session.exec(select(Unit).where(Unit.code == code)).first():
            raise ValueError(_("Code %(code)s is taken by another unit.") % {"code": code})
        values = {
            "code": code,
            "name": form.get("name", ""),
            "level": form.get("level", ""),
            "parent_code": parent.code if parent else "",
        }
        try:
            import_units(session, [CsvRow(1, values)])
        except ImportRefused as exc:
            raise ValueError("; ".join(error.message for error in exc.errors)) from None
        unit = session.exec(select(Unit).where(Unit.code == code)).one()
        new = (unit.name, unit.level, unit.parent_id)
        detail: dict[str, Any]
        if old is None:
            action, detail = "unit.add", {"code": code, "name": unit.name}
        elif old != new:
            action = "unit.move" if old[2] != new[2] else "unit.edit"
            pairs = zip(("name", "level", "parent_id"), old, new, strict=True)
            detail = {field: [str(a), str(b)] for field, a, b in pairs if a != b}
        else:
            return unit
        target = f"unit:{unit.id}"
        audit(session, who.official, action, now, target=target, detail=detail, unit_id=unit.id)
        return unit


@routes.get("/units/new")
async def new_unit_page(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    parents = await state.db(_choices, state, who, None)
    return render(request, "unit.html", _context(None, parents, {}, None))


@routes.post("/units/new")
async def new_unit_submit(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    form = {key: str(value) for key, value in (await request.post()).items() if key != "csrf"}
    try:
        await state.db(save_unit, state, request, None, form)
    except ValueError as exc:
        parents = await state.db(_choices, state, who, None)
        return render(request, "unit.html", _context(None, parents, form, str(exc)), status=400)
    return web.Response(status=302, headers={"Location": "/units?done=add"})


@routes.get("/units/{unit_id:\\d+}/edit")
async def edit_unit_page(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    unit = await state.db(_load, state, request, int(request.match_info["unit_id"]))
    parents = await state.db(_choices, state, who, unit.id)
    form = _unit_form(unit, str(unit.parent_id or ""))
    return render(request, "unit.html", _context(unit, parents, form, None))


@routes.post("/units/{unit_id:\\d+}/edit")
async def edit_unit_submit(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    unit_id = int(request.match_info["unit_id"])
    form = {key: str(value) for key, value in (await request.post()).items() if key != "csrf"}
    try:
        await state.db(save_unit, state, request, unit_id, form)
    except ValueError as exc:
        unit = await state.db(_load, state, request, unit_id)
        parents = await state.db(_choices, state, who, unit_id)
        return render(request, "unit.html", _context(unit, parents, form, str(exc)), status=400)
    return web.Response(status=302, headers={"Location": "/units?done=edit"})


def delete_unit(state: ConsoleState, request: web.Request, unit_id: int) -> str | None:
    """Remove the unit; the reason it cannot go, or None when it is gone."""
    who = viewer(request)
    with session_scope(state.engine) as session:
        unit = require_unit(request, session, unit_id)
        if unit.id == who.root.id:
            return _("You cannot remove the unit at the top of your area.")
        name, code, parent_id = unit.name, unit.code, unit.parent_id
        found = remove_unit(session, unit)
        if found.blocking:
            return _(
                "%(unit)s was not removed: units, officials, reported progress, plans or "
                "scores still depend on it."
            ) % {"unit": name}
        audit(
            session,
            who.official,
            "unit.remove",
            state.clock.now(),
            target=f"unit:{unit_id}",
            detail={"code": code, "name": name},
            unit_id=parent_id,
        )
    return None


@routes.post("/units/{unit_id:\\d+}/remove")
async def remove_unit_submit(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    unit_id = int(request.match_info["unit_id"])
    refused = await state.db(delete_unit, state, request, unit_id)
    if refused is None:
        return web.Response(status=302, headers={"Location": "/units?done=remove"})
    unit = await state.db(_load, state, request, unit_id)
    parents = await state.db(_choices, state, who, unit_id)
    form = _unit_form(unit, str(unit.parent_id or ""))
    return render(request, "unit.html", _context(unit, parents, form, refused), status=400)
