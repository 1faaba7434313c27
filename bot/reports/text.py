"""Words and numbers of the reports, shared by the digest text, XLSX, DOCX, CSV and chart.

Every label goes through gettext, so the caller picks the language with ``use_locale``;
numbers use the locale's decimal sign (36,4 % in Vietnamese).
"""

from __future__ import annotations

from babel.numbers import format_decimal

from kernel.dates import short_date
from kernel.i18n import N_, _, current_locale, ngettext
from storage.periods import Period
from storage.rollup import UNCLASSIFIED, Counts, DimensionRow, Rollup
from storage.taxonomy import papi_name

STATUS_LABELS = {
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "blocked": N_("Blocked"),
}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status])


def number(value: float, digits: int = 1) -> str:
    """1 decimal at most, in the current locale: 36,4 (vi), 36.4 (en)."""
    pattern = "#,##0." + "#" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=current_locale())


def percent(value: float) -> str:
    return number(value) + "%"


def signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value)


def period_title(period: Period) -> str:
    """'quý III/2024', '6 tháng đầu năm 2024', 'năm 2024', 'từ 01/01/2024 đến 31/03/2024'."""
    year = period.start.year
    if period.kind == "quarter":
        quarter = (period.start.month - 1) // 3 + 1
        return _("quarter %(quarter)s/%(year)d") % {"quarter": ROMAN[quarter], "year": year}
    if period.kind == "half":
        if period.start.month == 1:
            return _("the first half of %(year)d") % {"year": year}
        return _("the second half of %(year)d") % {"year": year}
    if period.kind == "year":
        return _("the year %(year)d") % {"year": year}
    if period.kind == "month":
        return _("month %(month)d/%(year)d") % {"month": period.start.month, "year": year}
    if period.kind == "week":
        return _("the week %(start)s–%(end)s") % {
            "start": short_date(period.start),
            "end": short_date(period.end),
        }
    return _("from %(start)s to %(end)s") % {
        "start": short_date(period.start),
        "end": short_date(period.end),
    }


def dimension_name(code: str, *, numbered: bool = True) -> str:
    """'3. Trách nhiệm giải trình với người dân'; tasks without a dimension: 'Other tasks'."""
    if code == UNCLASSIFIED:
        return _("Other tasks")
    try:
        name = papi_name(code, "vi" if current_locale() == "vi" else "en")
    except KeyError:
        name = code
    return f"{code}. {name}" if numbered else name


def score_text(row: DimensionRow, year: int | None) -> str | None:
    """'PAPI 2021: 4,86/10', or None when no score is known."""
    if row.score is None or year is None:
        return None
    maximum = number(row.max_score, 2) if row.max_score else "10"
    return _("PAPI %(year)d: %(score)s/%(max)s") % {
        "year": year,
        "score": number(row.score, 3),
        "max": maximum,
    }


def counts_line(counts: Counts) -> str:
    """'4/11 done (36,4%) · 4 in progress · 2 blocked · 1 not started'."""
    return _(
        "%(done)d/%(total)d done (%(pct)s) · %(progress)d in progress · %(blocked)d blocked"
        " · %(idle)d not started"
    ) % {
        "done": counts.done,
        "total": counts.total,
        "pct": percent(counts.completion),
        "progress": counts.in_progress,
        "blocked": counts.blocked,
        "idle": counts.not_started,
    }


def summary_text(result: Rollup, *, max_units: int = 5, max_blocked: int = 5) -> str:
    """The digest-ready roll-up: totals, change, PAPI dimensions weakest first, the units
    furthest behind, and what is blocked. Plain text, fits one Telegram message."""
    t = result.totals
    lines = [
        _("%(unit)s — %(period)s")
        % {"unit": result.unit.name, "period": period_title(result.period)}
    ]
    if not t.total:
        lines.append(_("No tasks are assigned in this unit yet."))
        return "\n".join(lines)
    lines.append(counts_line(t))
    lines.append(
        ngettext("%(n)d overdue", "%(n)d overdue", t.overdue) % {"n": t.overdue}
        + " · "
        + ngettext(
            "%(n)d silent for %(days)d days or more",
            "%(n)d silent for %(days)d days or more",
            t.silent,
        )
        % {"n": t.silent, "days": result.silence_days}
    )
    lines.append(
        ngettext("%(n)d done in the period", "%(n)d done in the period", t.done_in_period)
        % {"n": t.done_in_period}
    )
    change = result.completion_change()
    if change is not None and result.previous is not None:
        lines.append(
            _("Change since %(period)s: %(change)s percentage points")
            % {"period": period_title(result.previous.period), "change": signed(change)}
        )
    lines.append("")
    lines.append(
        _("By PAPI dimension (weakest first):") if result.scores else _("By PAPI dimension:")
    )
    year = result.scores.year if result.scores else None
    for dim in result.focus_dimensions():
        score = score_text(dim, year)
        suffix = f" — {score}" if score else ""
        lines.append(
            f"• {dimension_name(dim.code)}: {dim.counts.done}/{dim.counts.total} "
            f"({percent(dim.counts.completion)}){suffix}"
        )
    behind = sorted(
        (r for r in result.children if r.counts.total and r.unit_id != result.unit.id),
        key=lambda r: (r.counts.completion, -r.counts.overdue, r.name),
    )[:max_units]
    if behind:
        lines.append("")
        lines.append(_("Furthest behind:"))
        for row in behind:
            lines.append(
                "• "
                + _("%(name)s: %(pct)s done, %(overdue)d overdue, %(silent)d silent")
                % {
                    "name": row.name,
                    "pct": percent(row.counts.completion),
                    "overdue": row.counts.overdue,
                    "silent": row.counts.silent,
                }
            )
    silent = sorted(
        (r for r in result.children if r.counts.silent and r.unit_id != result.unit.id),
        key=lambda r: (-r.counts.silent, r.name),
    )[:max_units]
    if silent:
        lines.append("")
        lines.append(
            ngettext(
                "Silent for %(days)d day or more: %(units)s",
                "Silent for %(days)d days or more: %(units)s",
                result.silence_days,
            )
            % {
                "days": result.silence_days,
                "units": ", ".join(f"{r.name} ({r.counts.silent})" for r in silent),
            }
        )
    if result.blocked:
        lines.append("")
        lines.append(_("Blocked:"))
        for item in result.blocked[:max_blocked]:
            note = item.note or _("(no note)")
            lines.append(
                f"• {item.unit_name} — #{item.assignment_id} {_shorten(item.task_text)}: {note}"
            )
        if len(result.blocked) > max_blocked:
            more = len(result.blocked) - max_blocked
            lines.append(ngettext("… and %(n)d more", "… and %(n)d more", more) % {"n": more})
    return "\n".join(lines)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
