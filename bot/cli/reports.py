"""CLI commands: ``report`` (XLSX, DOCX, CSV or PNG of a unit's roll-up) and ``scores import``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import echo, fail, require_database, settings
from bot.cli.paths import cannot_write, require_folder
from kernel.clock import SystemClock
from kernel.dates import today_local
from kernel.i18n import _, use_locale

if TYPE_CHECKING:  # the roll-up, its writers and storage are loaded by the commands here
    from sqlmodel import Session

scores_app = typer.Typer(help="Published PAPI scores (weakest dimensions come first in reports).")


def report(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help="unit code, e.g. the province's")],
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    period: Annotated[
        str,
        typer.Option(
            "--period", help="week, 2024-Q3, 2024-H1, 2024, 2024-03 or 2024-01-01..2024-03-31"
        ),
    ] = "quarter",
    fmt: Annotated[str, typer.Option("--format", help="xlsx, docx, csv or png")] = "",
) -> None:
    """Write the roll-up of a unit's subtree for a period as XLSX, DOCX, CSV or PNG."""
    from sqlmodel import Session

    from bot.reports.files import FORMATS, render
    from bot.reports.text import percent, period_title
    from storage.periods import PeriodError, parse_period
    from storage.rollup import RollupError, rollup
    from storage.units import get_unit_by_code

    config = settings(ctx)
    with use_locale(config.app.default_locale):
        kind = (fmt or out.suffix.lstrip(".")).lower()
        if kind not in FORMATS:
            fail(_("unknown format %(format)s: use xlsx, docx, csv or png") % {"format": kind})
        require_folder(out, "--out")
        now = SystemClock().now()
        try:
            chosen = parse_period(period, today_local(now))
        except PeriodError as exc:
            fail(unknown_period(exc.text))
        db = require_database(ctx)
        with Session(db, expire_on_commit=False) as session:
            found = get_unit_by_code(session, unit)
            if found is None:
                fail(_("unknown unit code %(code)s") % {"code": unit})
            try:
                result = rollup(
                    session,
                    found,
                    chosen,
                    now,
                    silence_days=config.reminders.silence_days,
                    with_matrix=True,
                )
            except RollupError:
                fail(
                    _("unit %(code)s has no path in the unit tree: import the units again")
                    % {"code": unit}
                )
            try:
                render(session, result, kind, out, now)
            except OSError as exc:
                cannot_write(out, exc)
        echo(
            _("%(file)s: %(unit)s, %(period)s — %(done)d/%(total)d done (%(pct)s)")
            % {
                "file": out,
                "unit": found.name,
                "period": period_title(chosen),
                "done": result.totals.done,
                "total": result.totals.total,
                "pct": percent(result.totals.completion),
            }
        )


def unknown_period(text: str) -> str:
    return _(
        "unknown period %(text)r: use week, month, quarter, year, 2024-Q3, 2024-H1, 2024, "
        "2024-03 or 2024-01-01..2024-03-31"
    ) % {"text": text}


@scores_app.command("import")
def import_scores(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (unit,year,code,score) or a plan's text")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="for a plan's text: the province's unit code")
    ] = None,
) -> None:
    """Import PAPI scores from a CSV file, or the scores a plan's text states (--unit)."""
    from bot.reports.scores import ScoreError, read_scores_csv
    from storage.db import session_scope
    from storage.scores import save_scores

    with use_locale(settings(ctx).app.default_locale):
        if not file.is_file():
            fail(_("file not found: %(file)s") % {"file": file})
        db = require_database(ctx)
        with session_scope(db) as session:
            try:
                if file.suffix.lower() == ".csv":
                    added, updated = save_scores(session, read_scores_csv(session, file))
                else:
                    added, updated = _from_text(session, file, unit)
            except ScoreError as exc:
                fail(str(exc))
        echo(
            _("scores: %(added)d added, %(updated)d updated") % {"added": added, "updated": updated}
        )


def _from_text(session: Session, file: Path, unit: str | None) -> tuple[int, int]:
    from bot.reports.scores import save_stated, scores_from_text
    from storage.units import get_unit_by_code

    if unit is None:
        fail(_("a plan's text needs --unit (the province the scores belong to)"))
    found = get_unit_by_code(session, unit)
    if found is None or found.id is None:
        fail(_("unknown unit code %(code)s") % {"code": unit})
    stated = scores_from_text(file.read_text(encoding="utf-8", errors="replace"))
    if stated.year is None or not stated.values:
        fail(_("%(file)s states no PAPI scores") % {"file": file.name})
    return save_stated(session, found.id, stated)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("report")(report)
    app.add_typer(scores_app, name="scores")
