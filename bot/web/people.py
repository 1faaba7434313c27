"""Officials and units: list, edit (deactivate, move, change role), import from CSV or Excel
with a preview that lists every bad row before anything is written; the audit log page."""

from __future__ import annotations

import csv
import io
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField
from sqlmodel import Session

from bot.web.plans import require_admin
from bot.web.render import render, role_label
from bot.web.security import Viewer, require_unit, viewer
from bot.web.state import ConsoleState, state_of
from bot.web.tables import rows_xlsx, xlsx_response
from kernel.dates import short_datetime
from kernel.i18n import _
from storage.console import audit, audit_entries, units_in, update_official
from storage.csvrows import CsvFileError, ImportRefused, parse_csv
from storage.db import session_scope
from storage.models import ROLES, Official
from storage.officials import (
    OFFICIAL_COLUMNS,
    add_official,
    check_official_rows,
    import_officials,
    officials_in,
)
from storage.units import UNIT_COLUMNS, check_unit_rows, import_units

routes = web.RouteTableDef()
KINDS = {"officials": OFFICIAL_COLUMNS, "units": UNIT_COLUMNS}


def list_people(state: ConsoleState, who: Viewer) -> list[Any]:
    with Session(state.engine, expire_on_commit=False) as session:
        return officials_in(session, who.root)


@routes.get("/officials")
async def officials_page(request: web.Request) -> web.Response:
    state = state_of(request)
    rows = await state.db(list_people, state, viewer(request))
    return render(request, "officials.html", {"rows": rows})


def load_official(
    state: ConsoleState, request: web.Request, official_id: int
) -> tuple[Official, list[Any]]:
    with Session(state.engine, expire_on_commit=False) as session:
        official = session.get(Official, official_id)
        if official is None:
            raise web.HTTPNotFound(text=_("No such official."))
        require_unit(request, session, official.unit_id)
        return official, units_in(session, viewer(request).root)


@routes.get("/officials.xlsx")
async def officials_file(request: web.Request) -> web.Response:
    state = state_of(request)
    rows = await state.db(list_people, state, viewer(request))
    header = [_("Name"), _("Unit"), _("Role"), _("Active")]
    table = [
        [o.name, u.name, role_label(o.role), _("yes") if o.active else _("no")] for o, u in rows
    ]
    data = await state.db(rows_xlsx, "officials", header, table)
    return xlsx_response(data, "papi-officials.xlsx")


@routes.get("/officials/{official_id:\\d+}")
async def official_page(request: web.Request) -> web.Response:
    require_admin(request)
    state = state_of(request)
    official, units = await state.db(
        load_official, state, request, int(request.match_info["official_id"])
    )
    return render(
        request,
        "official.html",
        {"official": official, "units": units, "roles": ROLES, "error": None},
    )


def save_official(
    state: ConsoleState, request: web.Request, official_id: int, form: dict[str, str]
) -> None:
    who = viewer(request)
    now = state.clock.now()
    with session_scope(state.engine) as session:
        official = session.get(Official, official_id)
        if official is None:
            raise web.HTTPNotFound(text=_("No such official."))
        require_unit(request, session, official.unit_id)
        unit_id = form.get("unit_id", "")
        unit = require_unit(request, session, int(unit_id) if unit_id.isdigit() else 0)
        if official.id == who.id and (
            form.get("active") != "on" or form.get("role") != official.role
        ):
            raise ValueError(_("You cannot deactivate yourself or change your own role."))
        changes = update_official(
            session,
            official,
            name=form.get("name", ""),
            role=form.get("role", ""),
            unit=unit,
            active=form.get("active") == "on",
        )
        if changes:
            action = (
                "official.deactivate"
                if changes.get("active") == (True, False)
                else "official.move"
                if "unit_id" in changes
                else "official.edit"
            )
            detail: dict[str, Any] = {
                field: [str(a), str(b)] for field, (a, b) in changes.items() if a is not None
            }
            if "tasks_to_chair" in changes:
                detail["tasks_to_chair"] = changes["tasks_to_chair"][1]
            audit(
                session,
                who.official,
                action,
                now,
                target=f"official:{official.id}",
                detail=detail,
                unit_id=unit.id,
            )


@routes.post("/officials/{official_id:\\d+}")
async def official_submit(request: web.Request) -> web.Response:
    require_admin(request)
    state = state_of(request)
    official_id = int(request.match_info["official_id"])
    form = {key: str(value) for key, value in (await request.post()).items()}
    try:
        await state.db(save_official, state, request, official_id, form)
    except ValueError as exc:
        official, units = await state.db(load_official, state, request, official_id)
        context = {"official": official, "units": units, "roles": ROLES, "error": str(exc)}
        return render(request, "official.html", context, status=400)
    return web.Response(status=302, headers={"Location": "/officials"})


def create_official(state: ConsoleState, request: web.Request, form: dict[str, str]) -> None:
    who = viewer(request)
    now = state.clock.now()
    with session_scope(state.engine) as session:
        unit_id = form.get("unit_id", "")
        unit = require_unit(request, session, int(unit_id) if unit_id.isdigit() else 0)
        official = add_official(
            session,
            form.get("name", ""),
            form.get("phone", ""),
            unit,
            form.get("role", ""),
            form.get("locale", "vi"),
        )
        audit(
            session,
            who.official,
            "official.add",
            now,
            target=f"official:{official.id}",
            detail={"name": official.name, "role": official.role},
            unit_id=unit.id,
        )


def _units(state: ConsoleState, who: Viewer) -> list[Any]:
    with Session(state.engine, expire_on_commit=False) as session:
        return units_in(session, who.root)


@routes.get("/officials/new")
async def new_official_page(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    units = await state.db(_units, state, who)
    context: dict[str, Any] = {"units": units, "roles": ROLES, "error": None, "form": {}}
    return render(request, "official_new.html", context)


@routes.post("/officials/new")
async def new_official_submit(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    form = {key: str(value) for key, value in (await request.post()).items() if key != "csrf"}
    try:
        await state.db(create_official, state, request, form)
    except ValueError as exc:
        units = await state.db(_units, state, who)
        context = {"units": units, "roles": ROLES, "error": str(exc), "form": form}
        return render(request, "official_new.html", context, status=400)
    return web.Response(status=302, headers={"Location": "/officials"})


# ---------------------------------------------------------------- import with preview


def spreadsheet_text(name: str, data: bytes) -> str:
    """CSV text of an uploaded .csv, or of the first sheet of an .xlsx."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook  # loaded with the first upload, not at `run`'s start

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many types for a file that is no workbook
            raise CsvFileError(_("%(file)s is not an Excel workbook") % {"file": name}) from None
        out = io.StringIO()
        writer = csv.writer(out)
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            writer.writerow(["" if value is None else str(value) for value in row])
        return out.getvalue()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError(
            _('%(file)s is not UTF-8 text: save it as "CSV UTF-8"') % {"file": name}
        ) from None


def check_rows(state: ConsoleState, kind: str, text: str, name: str) -> list[Any]:
    """The rows as they would be imported; ImportRefused (every bad row) or CsvFileError."""
    rows = parse_csv(text, KINDS[kind], name)
    with Session(state.engine) as session:
        if kind == "units":
            return list(check_unit_rows(session, rows)[0].values())
        return check_official_rows(session, rows)


def import_rows(state: ConsoleState, who: Viewer, kind: str, text: str, name: str) -> Any:
    rows = parse_csv(text, KINDS[kind], name)
    now = state.clock.now()
    with session_scope(state.engine) as session:
        counts = (
            import_units(session, rows) if kind == "units" else import_officials(session, rows, now)
        )
        audit(
            session,
            who.official,
            f"{kind}.import",
            now,
            target=name,
            detail={"added": counts.added, "updated": counts.updated},
        )
    return counts


@routes.get("/import/{kind:(officials|units)}")
async def import_page(request: web.Request) -> web.Response:
    require_admin(request)
    kind = request.match_info["kind"]
    return render(
        request,
        "import.html",
        {
            "kind": kind,
            "columns": KINDS[kind],
            "errors": [],
            "rows": None,
            "token": "",
            "done": None,
        },
    )


@routes.post("/import/{kind:(officials|units)}")
async def import_submit(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    kind = request.match_info["kind"]
    form = await request.post()
    context: dict[str, Any] = {
        "kind": kind,
        "columns": KINDS[kind],
        "errors": [],
        "rows": None,
        "token": "",
        "done": None,
    }
    token = str(form.get("token", ""))
    try:
        if token:  # the second step: the previewed file, imported
            name, text = await state.db(_read_pending, state, token)
            counts = await state.db(import_rows, state, who, kind, text, name)
            shutil.rmtree(state.upload_dir / token, ignore_errors=True)
            context["done"] = counts
            return render(request, "import.html", context)
        field = form.get("file")
        if not isinstance(field, FileField) or not field.filename:
            raise CsvFileError(_("Choose a CSV or Excel file to upload."))
        name = Path(field.filename).name
        text = spreadsheet_text(name, field.file.read())
        context["rows"] = await state.db(check_rows, state, kind, text, name)
        context["token"] = await state.db(_keep_pending, state, name, text)
    except ImportRefused as exc:
        context["errors"] = [str(error) for error in exc.errors]
        return render(request, "import.html", context, status=400)
    except CsvFileError as exc:
        context["errors"] = [str(exc)]
        return render(request, "import.html", context, status=400)
    return render(request, "import.html", context)


def _keep_pending(state: ConsoleState, name: str, text: str) -> str:
    token = secrets.token_urlsafe(18)
    folder = state.upload_dir / token
    folder.mkdir(parents=True)
    (folder / "pending.json").write_text(json.dumps({"name": name, "text": text}), encoding="utf-8")
    return token


def _read_pending(state: ConsoleState, token: str) -> tuple[str, str]:
    path = state.upload_dir / token / "pending.json"
    if not token.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        raise CsvFileError(_("This import is not there any more: upload the file again."))
    data = json.loads(path.read_text(encoding="utf-8"))
    return str(data["name"]), str(data["text"])


# ---------------------------------------------------------------- audit log


@routes.get("/audit")
async def audit_page(request: web.Request) -> web.Response:
    state = state_of(request)
    who = viewer(request)

    def load() -> list[Any]:
        with Session(state.engine, expire_on_commit=False) as session:
            return audit_entries(session, who.root)

    entries = await state.db(load)
    if request.query.get("format") == "xlsx":
        header = [_("When"), _("Who"), _("What"), _("On"), _("Details")]
        table = [
            [short_datetime(e.at), e.who, e.action, e.target, str(e.detail or "")] for e in entries
        ]
        data = await state.db(rows_xlsx, "audit", header, table)
        return xlsx_response(data, "papi-audit.xlsx")
    return render(request, "audit.html", {"entries": entries})
