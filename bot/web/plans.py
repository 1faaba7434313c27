"""Plan import in the browser: upload → review table (fix agencies, dimensions, deadlines)
→ commit.

The same reader (``parse_plan``), review flags and writer (``store_plan``) as
``papi-bot import-plan``. Between upload and commit the file waits in the upload folder with
the admin's corrections beside it as JSON; nothing reaches the database before the commit.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField
from sqlmodel import Session, col, select

from bot.cli.plans import FLAG_LABELS
from bot.planimport import PlanAlreadyImported, PlanFormatError, parse_plan, store_plan
from bot.planimport.model import DEADLINE_KINDS, ParsedPlan
from bot.planimport.review import apply_review, review_fields, write_review
from bot.planimport.store import Resolution, count_assignments, resolve_plan
from bot.web.render import render
from bot.web.security import Viewer, viewer
from bot.web.state import ConsoleState, state_of
from bot.web.tables import rows_xlsx, xlsx_response
from kernel.dates import short_datetime
from kernel.i18n import N_, _
from storage.console import audit
from storage.db import session_scope
from storage.models import Plan, Unit
from storage.units import province_of

routes = web.RouteTableDef()
PLAN_SUFFIXES = (".txt", ".tsv", ".docx", ".xlsx", ".csv")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SAFE_NAME = re.compile(r"[^\w.\- ]+")
DIMENSIONS = tuple(range(1, 9))
DEADLINE_KIND_LABELS = {
    "date": N_("dated"),
    "recurring": N_("recurring"),
    "term": N_("by term"),
    "unknown": N_("not understood"),
}


def require_admin(request: web.Request) -> Viewer:
    who = viewer(request)
    if not who.is_admin:
        raise web.HTTPForbidden(text=_("Only an admin can do this."))
    return who


@dataclass
class Draft:
    folder: Path
    file: Path
    edits: dict[str, dict[str, Any]]  # task index -> changed review cells {"lead": "…"}
    year: int | None


def _draft_folder(state: ConsoleState, token: str) -> Path:
    if not _TOKEN.match(token):
        raise web.HTTPNotFound(text=_("This import is not there any more: upload the file again."))
    return state.upload_dir / token


def load_draft(state: ConsoleState, token: str) -> Draft:
    folder = _draft_folder(state, token)
    meta = folder / "draft.json"
    files = [p for p in folder.iterdir() if p.name != "draft.json"] if folder.is_dir() else []
    if not files or not meta.is_file():
        raise web.HTTPNotFound(text=_("This import is not there any more: upload the file again."))
    data = json.loads(meta.read_text(encoding="utf-8"))
    return Draft(folder, files[0], data.get("edits", {}), data.get("year"))


def save_draft(draft: Draft) -> None:
    payload = {"edits": draft.edits, "year": draft.year}
    (draft.folder / "draft.json").write_text(json.dumps(payload), encoding="utf-8")


def _clean_error(exc: Exception, path: Path) -> str:
    """The reader's message without the server's folder names."""
    return str(exc).replace(str(path), path.name)


def apply_edits(parsed: ParsedPlan, edits: dict[str, dict[str, Any]], source: str) -> None:
    """The admin's corrections on top of what the reader understood, read by the rules of an
    edited review spreadsheet (``bot.planimport.review.apply_review``); PlanFormatError
    names the row (its place in the review table) and the bad value."""
    for index, task in enumerate(parsed.tasks):
        edit = edits.get(str(index))
        if edit:
            changes = {key: str(value) for key, value in edit.items() if key in REVIEW_FIELDS}
            parsed.tasks[index] = apply_review(task, changes, parsed.year, source, index + 1)


def read_draft(draft: Draft) -> ParsedPlan:
    try:
        parsed = parse_plan(draft.file, year=draft.year)
    except PlanFormatError as exc:
        raise web.HTTPBadRequest(text=_clean_error(exc, draft.file)) from None
    try:
        apply_edits(parsed, draft.edits, draft.file.name)
    except PlanFormatError as exc:
        raise web.HTTPBadRequest(text=_clean_error(exc, draft.file)) from None
    return parsed


def _province(session: Session, who: Viewer) -> Unit:
    unit = who.root if who.root.level == "province" else province_of(session, who.root)
    if unit is None:
        raise web.HTTPForbidden(text=_("Your unit is not under a province."))
    return unit


def review_rows(state: ConsoleState, who: Viewer, draft: Draft) -> tuple[ParsedPlan, list[Any]]:
    parsed = read_draft(draft)
    with Session(state.engine, expire_on_commit=False) as session:
        resolutions = resolve_plan(session, parsed, _province(session, who))
    return parsed, list(zip(parsed.tasks, resolutions, strict=True))


def list_plans(state: ConsoleState, who: Viewer) -> list[Plan]:
    with Session(state.engine, expire_on_commit=False) as session:
        province = _province(session, who)
        query = select(Plan).where(col(Plan.province_id) == province.id)
        return list(session.exec(query.order_by(col(Plan.id).desc())).all())


@routes.get("/plans")
async def plans_page(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    plans = await state.db(list_plans, state, who)
    if request.query.get("format") == "xlsx":
        header = [_("Title"), _("Number"), _("Year"), _("File"), _("Imported"), _("Retired")]
        table = [
            (p.title, p.number or "", p.year, p.source_file or "", _when(p.created_at), retired)
            for p in plans
            for retired in [_when(p.retired_at)]
        ]
        data = await state.db(rows_xlsx, "plans", header, table)
        return xlsx_response(data, "papi-plans.xlsx")
    done = request.query.get("stored", "")
    return render(request, "plans.html", {"plans": plans, "error": None, "stored": done})


def store_upload(state: ConsoleState, name: str, data: bytes, year: int | None) -> str:
    token = secrets.token_urlsafe(18)
    folder = state.upload_dir / token
    folder.mkdir(parents=True)
    safe = _SAFE_NAME.sub("_", Path(name).name).strip() or "plan.txt"
    path = folder / safe
    path.write_bytes(data)
    draft = Draft(folder, path, {}, year)
    try:
        read_draft(draft)
    except web.HTTPBadRequest:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    save_draft(draft)
    return token


@routes.post("/plans/upload")
async def upload(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    form = await request.post()
    field = form.get("file")
    year_text = str(form.get("year", "")).strip()
    error = None
    if not isinstance(field, FileField) or not field.filename:
        error = _("Choose a plan file to upload.")
    elif Path(field.filename).suffix.lower() not in PLAN_SUFFIXES:
        error = _("Unknown file type: use .docx, .xlsx, .csv, .txt or .tsv.")
    elif year_text and not (year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        error = _("The year must be a number such as 2026.")
    if error is None:
        assert isinstance(field, FileField)
        try:
            token = await state.db(
                store_upload,
                state,
                field.filename,
                field.file.read(),
                int(year_text) if year_text else None,
            )
        except web.HTTPBadRequest as exc:
            error = exc.text
        else:
            return web.Response(status=302, headers={"Location": f"/plans/review/{token}"})
    plans = await state.db(list_plans, state, who)
    return render(request, "plans.html", {"plans": plans, "error": error, "stored": ""}, status=400)


@routes.get("/plans/review/{token}")
async def review_page(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    draft = await state.db(load_draft, state, request.match_info["token"])
    parsed, rows = await state.db(review_rows, state, who, draft)
    if request.query.get("format") == "xlsx":  # the table as `import-plan --review-out` writes it
        data = await state.db(review_xlsx, parsed)
        return xlsx_response(data, "review.xlsx")
    return render(request, "review.html", _review_context(request, parsed, rows, None))


def review_xlsx(parsed: ParsedPlan) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "review.xlsx"
        write_review(parsed, path)
        return path.read_bytes()


def _when(moment: datetime | None) -> str:
    return short_datetime(moment) if moment else ""


def _review_context(
    request: web.Request, parsed: ParsedPlan, rows: list[tuple[Any, Resolution]], error: str | None
) -> dict[str, Any]:
    return {
        "token": request.match_info["token"],
        "parsed": parsed,
        "rows": rows,
        "dimensions": DIMENSIONS,
        "flag_labels": {key: _(label) for key, label in FLAG_LABELS.items()},
        "kind_labels": {key: _(label) for key, label in DEADLINE_KIND_LABELS.items()},
        "kinds": DEADLINE_KINDS,
        "error": error,
    }


FORM_FIELDS = {
    "dim": "dimension",
    "deadline": "deadline",
    "kind": "deadline_kind",
    "due": "due",
    "lead": "lead",
    "coord": "coordinating",
}
REVIEW_FIELDS = (*FORM_FIELDS.values(), "subdimension", "confidence")


def _form_edits(form: Any, parsed: ParsedPlan) -> dict[str, dict[str, str]]:
    """Per task, the review cells the admin changed (compared with what the reader read)."""
    edits: dict[str, dict[str, str]] = {}
    for index, task in enumerate(parsed.tasks):
        before = review_fields(task)
        sent = {
            field: " ".join(str(form[f"{name}-{index}"]).split())
            for name, field in FORM_FIELDS.items()
            if isinstance(form.get(f"{name}-{index}"), str)
        }
        changed = {field: value for field, value in sent.items() if value != before[field]}
        if "deadline" in changed and not {"deadline_kind", "due"} & changed.keys():
            changed.update(deadline_kind="", due="")  # a retyped deadline is read anew
        if changed.get("deadline_kind") == "":
            changed["due"] = ""
        if "dimension" in changed:  # a person chose it: sure, and its old sub-index goes
            changed.update(confidence="1" if changed["dimension"] else "", subdimension="")
        if changed:
            edits[str(index)] = changed
    return edits


def commit_draft(state: ConsoleState, who: Viewer, draft: Draft) -> tuple[Plan, int]:
    parsed = read_draft(draft)
    now = state.clock.now()
    with session_scope(state.engine) as session:
        province = _province(session, who)
        plan = store_plan(session, parsed, province)
        assignments = count_assignments(session, plan)
        audit(
            session,
            who.official,
            "plan.import",
            now,
            target=f"plan:{plan.id}",
            detail={"file": draft.file.name, "tasks": len(parsed.tasks), "edits": len(draft.edits)},
            unit_id=province.id,
        )
    shutil.rmtree(draft.folder, ignore_errors=True)
    return plan, assignments


@routes.post("/plans/review/{token}")
async def review_submit(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    draft = await state.db(load_draft, state, request.match_info["token"])
    form = await request.post()
    parsed = await state.db(read_draft, Draft(draft.folder, draft.file, {}, draft.year))
    edited = Draft(draft.folder, draft.file, _form_edits(form, parsed), draft.year)
    try:
        await state.db(read_draft, edited)  # a bad value is refused before it is kept
    except web.HTTPBadRequest as exc:
        parsed, rows = await state.db(review_rows, state, who, draft)
        context = _review_context(request, parsed, rows, exc.text)
        return render(request, "review.html", context, status=400)
    await state.db(save_draft, edited)
    if form.get("action") == "commit":
        try:
            plan, _assignments = await state.db(commit_draft, state, who, edited)
        except (PlanAlreadyImported, PlanFormatError) as exc:
            parsed, rows = await state.db(review_rows, state, who, edited)
            context = _review_context(request, parsed, rows, _clean_error(exc, draft.file))
            return render(request, "review.html", context, status=400)
        return web.Response(status=302, headers={"Location": f"/plans?stored={plan.id}"})
    return web.Response(status=302, headers={"Location": f"/plans/review/{draft.folder.name}"})
