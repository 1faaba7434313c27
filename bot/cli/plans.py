"""CLI commands: plans (``import-plan``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import echo, engine, fail, require_database, settings
from bot.cli.paths import cannot_write, require_folder
from kernel.i18n import N_, _, ngettext, use_locale

# The plan reader and the storage layer are loaded by import-plan only, not by every command.
if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.planimport.model import ParsedPlan
    from bot.planimport.store import Resolution
    from storage.models import Unit

FLAG_LABELS = {
    "unknown_deadline": N_("deadline not understood"),
    "deadline_needs_year": N_("deadline needs a year"),
    "low_confidence_dimension": N_("dimension uncertain"),
    "no_dimension": N_("no dimension"),
    "no_lead_agency": N_("no lead agency"),
    "unresolved_agency": N_("agency matches no unit"),
    "removed_from_plan": N_("no longer in the plan"),
    "from_prose": N_("read from the plan's text"),
    "ocr_damaged": N_("text looks damaged by the scan"),
    "deadline_assumed": N_("no deadline in the plan: recurring assumed"),
}


_WHERE = re.compile(r"^(?:table (\d+) )?(line|row) (\d+)$")


def _where(text: str) -> str:
    """ "line 12" / "row 3" / "table 1 row 3" in the user's language."""
    match = _WHERE.match(text)
    if match is None:
        return text
    table, kind, number = match.groups()
    if table:
        return _("table %(table)s row %(row)s") % {"table": table, "row": number}
    if kind == "line":
        return _("line %(number)s") % {"number": number}
    return _("row %(number)s") % {"number": number}


def _find_province(session: Session, code: str | None) -> Unit:
    from sqlmodel import col, select

    from storage.models import Unit, UnitLevel

    query = select(Unit).where(col(Unit.level) == UnitLevel.PROVINCE)
    if code is not None:
        unit = session.exec(query.where(col(Unit.code) == code)).first()
        if unit is None:
            fail(_("no province with code %(code)s") % {"code": code})
        return unit
    provinces = session.exec(query).all()
    if len(provinces) != 1:
        fail(
            _("pass --province CODE (the database has %(count)s provinces)")
            % {"count": len(provinces)}
        )
    return provinces[0]


def _summary(parsed: ParsedPlan) -> None:
    echo(_("Plan: %(title)s (%(year)s)") % {"title": parsed.title, "year": parsed.year or "?"})
    count = len(parsed.tasks)
    echo(ngettext("%(count)s task read", "%(count)s tasks read", count) % {"count": count})
    kinds = Counter(task.deadline.kind for task in parsed.tasks)
    echo(
        _(
            "Deadlines: %(date)s dated, %(recurring)s recurring, %(term)s by term, "
            "%(unknown)s unknown"
        )
        % {kind: kinds.get(kind, 0) for kind in ("date", "recurring", "term", "unknown")}
    )
    if parsed.report_deadlines:
        echo(_("Report deadlines: %(dates)s") % {"dates": ", ".join(parsed.report_deadlines)})
    else:
        echo(_("Report deadlines: none in the plan (the configured default applies)"))
    flagged = [task for task in parsed.tasks if task.flags]
    if flagged:
        echo(_("%(count)s tasks to review:") % {"count": len(flagged)})
    for task in flagged:
        labels = ", ".join(_(FLAG_LABELS.get(flag, flag)) for flag in task.flags)
        echo(
            _("  STT %(stt)s (%(where)s): %(flags)s")
            % {"stt": task.stt or "-", "where": _where(task.source_row), "flags": labels}
        )


def import_plan(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="plan file: .txt (TSV or PDF text), .docx, .xlsx, .csv")
    ],
    year: Annotated[
        int | None, typer.Option(help="the plan's year, if the file does not say")
    ] = None,
    province: Annotated[str | None, typer.Option(help="code of the province unit")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="read and report; write nothing")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the understood plan as JSON")
    ] = False,
    review_out: Annotated[
        Path | None, typer.Option(help="write the review spreadsheet here")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="update a plan imported before")
    ] = False,
) -> None:
    """Import a plan appendix: tasks, agencies, deadlines, dimensions and assignments."""
    from bot.planimport import PlanFormatError, parse_plan
    from bot.planimport.limits import ImportLimits
    from bot.planimport.tabular import write_review

    with use_locale(settings(ctx).app.default_locale):
        try:
            limits = ImportLimits.from_config(settings(ctx).imports)
            parsed = parse_plan(file, year=year, limits=limits)
        except PlanFormatError as exc:
            fail(str(exc))
        if review_out is not None:
            require_folder(review_out, "--review-out")
            try:
                write_review(parsed, review_out)
            except OSError as exc:
                cannot_write(review_out, exc)
        if as_json:
            echo(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
            return
        _summary(parsed)
        if review_out is not None:
            echo(_("Review file written: %(path)s") % {"path": review_out})
        if dry_run:
            _report_resolution(ctx, parsed, province)
            echo(_("Dry run: nothing was written."))
            return
        _store(ctx, parsed, province, replace)


def _report_resolution(ctx: typer.Context, parsed: ParsedPlan, province_code: str | None) -> None:
    """In a dry run, name the agencies that match no unit, when a database is there."""
    from sqlmodel import col, select

    from bot.planimport.store import resolve_plan
    from storage.db import is_current, session_scope
    from storage.models import Unit, UnitLevel

    db = engine(ctx)
    if not is_current(db):
        return
    with session_scope(db) as session:
        query = select(Unit).where(col(Unit.level) == UnitLevel.PROVINCE)
        if province_code is not None:
            query = query.where(col(Unit.code) == province_code)
        provinces = session.exec(query).all()
        if len(provinces) != 1:
            return
        _echo_unresolved(resolve_plan(session, parsed, provinces[0]))


def _echo_unresolved(resolutions: list[Resolution]) -> None:
    names = sorted({name for resolution in resolutions for name in resolution.unresolved})
    if names:
        echo(_("Agencies that match no unit: %(names)s") % {"names": "; ".join(names)})


def _store(
    ctx: typer.Context, parsed: ParsedPlan, province_code: str | None, replace: bool
) -> None:
    from bot.planimport import PlanAlreadyImported, PlanFormatError, store_plan
    from bot.planimport.store import count_assignments, resolve_plan
    from storage.db import session_scope

    db = require_database(ctx)
    with session_scope(db) as session:
        province = _find_province(session, province_code)
        try:
            plan = store_plan(session, parsed, province, replace=replace)
        except (PlanAlreadyImported, PlanFormatError) as exc:
            fail(str(exc))
        resolutions = resolve_plan(session, parsed, province)
        assignments = count_assignments(session, plan)
    _echo_unresolved(resolutions)
    echo(
        _("Stored as plan #%(id)s for %(province)s: %(tasks)s tasks, %(assignments)s assignments")
        % {
            "id": plan.id,
            "province": province.name,
            "tasks": len(parsed.tasks),
            "assignments": assignments,
        }
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("import-plan")(import_plan)
