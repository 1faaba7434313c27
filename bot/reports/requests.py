"""The edge side of /tonghop and /baocao: a ``ReportRequest`` from the conversation becomes
the messages that carry it (the summary text, or the XLSX and DOCX files with a caption).

The handler has already decided who may have which report; this module only renders, so
``handlers/`` never imports a renderer.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.reports.files import render
from bot.reports.retention import reports_folder
from bot.reports.text import percent, period_title, summary_text
from handlers.types import Outbound, OutFile, ReportKind, ReportRequest
from kernel.i18n import _, use_locale
from storage.models import Unit
from storage.periods import Period
from storage.rollup import rollup

MAX_TEXT = 4000  # Telegram allows 4096 characters per message


def request_data(request: ReportRequest) -> dict[str, Any]:
    """The request as JSON data, for a ``ReportJob`` rendered after the commit."""
    period = request.period
    return {
        "kind": str(request.kind),
        "unit_id": request.unit_id,
        "period": {
            "kind": period.kind,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label,
        },
        "locale": request.locale,
        "formats": list(request.formats),
    }


def request_from_data(data: dict[str, Any]) -> ReportRequest:
    period = data["period"]
    return ReportRequest(
        kind=ReportKind(data["kind"]),
        unit_id=int(data["unit_id"]),
        period=Period(
            period["kind"],
            date.fromisoformat(period["start"]),
            date.fromisoformat(period["end"]),
            period["label"],
        ),
        locale=str(data["locale"]),
        formats=tuple(data["formats"]),
    )


def _file_stem(unit: Unit, label: str, now: datetime) -> str:
    safe = re.sub(r"[^0-9A-Za-z-]+", "_", f"{unit.code}_{label}")
    return f"baocao_{safe}_{now.strftime('%Y%m%d%H%M%S')}"


def render_request(
    session: Session, request: ReportRequest, *, data_dir: Path, silence_days: int, now: datetime
) -> list[Outbound]:
    """The messages answering ``request``; files are written under ``data_dir/reports``."""
    with use_locale(request.locale):
        root = session.get(Unit, request.unit_id)
        if root is None:  # deleted between the check and now: nothing to report on
            return [Outbound(_("Reports are for the coordinator and commune chairs."))]
        files = request.kind == ReportKind.FILES
        result = rollup(
            session, root, request.period, now, silence_days=silence_days, with_matrix=files
        )
        if not files:
            text = summary_text(result)
            return [Outbound(text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…")]
        folder = reports_folder(data_dir)  # pruned after [retention] days (bot.reports.retention)
        stem = _file_stem(root, request.period.label, now)
        attached = []
        for fmt in request.formats:
            path = render(session, result, fmt, folder / f"{stem}.{fmt}", now)
            attached.append(OutFile(str(path), path.name))
        caption = _("Report %(unit)s, %(period)s: %(done)d/%(total)d done (%(pct)s).") % {
            "unit": root.name,
            "period": period_title(request.period),
            "done": result.totals.done,
            "total": result.totals.total,
            "pct": percent(result.totals.completion),
        }
        return [Outbound(caption if n == 0 else "", file=file) for n, file in enumerate(attached)]
