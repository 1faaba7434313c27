"""The reports in the conversation: /tonghop (summary), /baocao [period] (XLSX + DOCX files),
and a commune's rank in its province (shown by a chair's /xa).

Who may ask: a coordinator (or admin) for their province or district subtree, a chair for
their own commune; anyone else is refused politely. Everything renders from ``storage.rollup``.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.reports.files import render
from bot.reports.text import percent, period_title, summary_text
from handlers.context import HandlerContext
from handlers.permissions import in_subtree, scope_root
from handlers.texts import fit
from handlers.types import Outbound, OutFile
from kernel.i18n import _, use_locale
from storage.models import Unit
from storage.periods import PeriodError, current_period, parse_period
from storage.rollup import ancestor_at_level, rollup, unit_rank

REPORT_ROLES = ("coordinator", "admin", "chair")


def _root(ctx: HandlerContext) -> Unit | None:
    """The subtree the official may see reports of, or None."""
    official = ctx.official
    if official is None or not official.active or official.role not in REPORT_ROLES:
        return None
    return scope_root(ctx.session, official)


def _refuse() -> list[Outbound]:
    return [Outbound(_("Reports are for the coordinator and commune chairs."))]


def _locale(ctx: HandlerContext) -> str | None:
    return ctx.official.locale if ctx.official else None


def province_summary(ctx: HandlerContext) -> list[Outbound]:
    """/tonghop: this quarter so far, with the change since last quarter."""
    with use_locale(_locale(ctx)):
        root = _root(ctx)
        if root is None:
            return _refuse()
        result = rollup(
            ctx.session,
            root,
            current_period("quarter", ctx.today),
            ctx.now,
            silence_days=ctx.settings.reminders.silence_days,
        )
        text = summary_text(result)
        return [Outbound(fit(ctx, text))]


def _file_stem(unit: Unit, label: str, ctx: HandlerContext) -> str:
    safe = re.sub(r"[^0-9A-Za-z-]+", "_", f"{unit.code}_{label}")
    return f"baocao_{safe}_{ctx.now.strftime('%Y%m%d%H%M%S')}"


def report_files(ctx: HandlerContext, args: str) -> list[Outbound]:
    """/baocao [period]: the XLSX and DOCX of the official's subtree (default: this quarter)."""
    with use_locale(_locale(ctx)):
        root = _root(ctx)
        if root is None:
            return _refuse()
        try:
            period = (
                parse_period(args, ctx.today)
                if args.strip()
                else current_period("quarter", ctx.today)
            )
        except PeriodError:
            return [
                Outbound(
                    _(
                        "I did not understand the period %(text)s. Try: /baocao 2024-Q3, "
                        "/baocao 2024-H1, /baocao 2024 or /baocao tuan"
                    )
                    % {"text": args.strip()}
                )
            ]
        result = rollup(
            ctx.session,
            root,
            period,
            ctx.now,
            silence_days=ctx.settings.reminders.silence_days,
            with_matrix=True,
        )
        folder = Path(ctx.settings.app.data_dir) / "reports"
        stem = _file_stem(root, period.label, ctx)
        outbounds = []
        for fmt in ("xlsx", "docx"):
            path = render(ctx.session, result, fmt, folder / f"{stem}.{fmt}", ctx.now)
            outbounds.append(Outbound("", file=OutFile(str(path), path.name)))
        caption = _("Report %(unit)s, %(period)s: %(done)d/%(total)d done (%(pct)s).") % {
            "unit": root.name,
            "period": period_title(period),
            "done": result.totals.done,
            "total": result.totals.total,
            "pct": percent(result.totals.completion),
        }
        first = outbounds[0]
        return [Outbound(caption, file=first.file), *outbounds[1:]]


def commune_rank_line(ctx: HandlerContext, unit_id: int) -> str | None:
    """'Xếp hạng 3/12 xã của tỉnh', by current completion; None when not allowed or unranked."""
    with use_locale(_locale(ctx)):
        root = _root(ctx)
        unit = ctx.session.get(Unit, unit_id)
        if root is None or unit is None or not in_subtree(unit, root):
            return None
        province = ancestor_at_level(ctx.session, unit, "province")
        if province is None:
            return None
        ranked = unit_rank(ctx.session, unit, province, ctx.now)
        if ranked is None:
            return None
        rank, out_of = ranked
        if unit.level == "commune":
            return _("Ranked %(rank)d/%(of)d communes of the province") % {
                "rank": rank,
                "of": out_of,
            }
        return _("Ranked %(rank)d/%(of)d units of this level in the province") % {
            "rank": rank,
            "of": out_of,
        }
