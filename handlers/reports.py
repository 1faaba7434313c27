"""The reports in the conversation: /tonghop (summary), /baocao [period] (XLSX + DOCX files),
and a commune's rank in its province (shown by a chair's /xa).

Who may ask: a coordinator (or admin) for their province or district subtree, a chair for
their own commune; anyone else is refused politely. The conversation only decides who gets
which report: it answers with a ``ReportRequest`` that the edge renders (``bot.reports``).
"""

from __future__ import annotations

from handlers.context import HandlerContext
from handlers.permissions import in_subtree, scope_root
from handlers.types import Outbound, Reply, ReportKind, ReportRequest
from kernel.i18n import _, use_locale
from storage.models import Role, Unit, UnitLevel
from storage.periods import PeriodError, current_period, parse_period
from storage.rollup import ancestor_at_level, unit_rank

REPORT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.CHAIR)
FILE_FORMATS = ("xlsx", "docx")


def _root(ctx: HandlerContext) -> Unit | None:
    """The subtree the official may see reports of, or None."""
    official = ctx.official
    if official is None or not official.active or official.role not in REPORT_ROLES:
        return None
    return scope_root(ctx.session, official)


def _refuse() -> list[Reply]:
    return [Outbound(_("Reports are for the coordinator and commune chairs."))]


def _locale(ctx: HandlerContext) -> str | None:
    return ctx.official.locale if ctx.official else None


def province_summary(ctx: HandlerContext) -> list[Reply]:
    """/tonghop: this quarter so far, with the change since last quarter."""
    with use_locale(_locale(ctx)):
        root = _root(ctx)
        if root is None or root.id is None:
            return _refuse()
        period = current_period("quarter", ctx.today)
        return [ReportRequest(ReportKind.SUMMARY, root.id, period, _locale(ctx) or "vi")]


def report_files(ctx: HandlerContext, args: str) -> list[Reply]:
    """/baocao [period]: the XLSX and DOCX of the official's subtree (default: this quarter)."""
    with use_locale(_locale(ctx)):
        root = _root(ctx)
        if root is None or root.id is None:
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
        locale = _locale(ctx) or "vi"
        return [ReportRequest(ReportKind.FILES, root.id, period, locale, FILE_FORMATS)]


def commune_rank_line(ctx: HandlerContext, unit_id: int) -> str | None:
    """'Xếp hạng 3/12 xã của tỉnh', by current completion; None when not allowed or unranked."""
    with use_locale(_locale(ctx)):
        root = _root(ctx)
        unit = ctx.session.get(Unit, unit_id)
        if root is None or unit is None or not in_subtree(unit, root):
            return None
        province = ancestor_at_level(ctx.session, unit, UnitLevel.PROVINCE)
        if province is None:
            return None
        ranked = unit_rank(ctx.session, unit, province, ctx.now)
        if ranked is None:
            return None
        rank, out_of = ranked
        if unit.level == UnitLevel.COMMUNE:
            return _("Ranked %(rank)d/%(of)d communes of the province") % {
                "rank": rank,
                "of": out_of,
            }
        return _("Ranked %(rank)d/%(of)d units of this level in the province") % {
            "rank": rank,
            "of": out_of,
        }
