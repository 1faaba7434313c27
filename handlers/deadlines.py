"""A task's deadline in words, the same in the task view, reminders and digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kernel.dates import long_date
from kernel.i18n import _, ngettext


def next_report_deadline(report_deadlines: Sequence[str], today: date) -> date | None:
    """The first report deadline ("MM-DD") on or after today, rolling into next year."""
    candidates = []
    for month_day in report_deadlines:
        month, day = (int(part) for part in month_day.split("-"))
        for year in (today.year, today.year + 1):
            try:
                moment = date(year, month, day)
            except ValueError:  # 02-29 in a common year
                continue
            if moment >= today:
                candidates.append(moment)
                break
    return min(candidates) if candidates else None


def deadline_words(
    kind: str,
    due: date | None,
    raw: str,
    today: date,
    report_deadlines: Sequence[str] = (),
) -> str:
    """'hạn ngày 30 tháng 9 năm 2024, còn 12 ngày',
    'thường xuyên — báo cáo trước ngày 20 tháng 6 năm 2024', ..."""
    if kind == "date" and due is not None:
        days = (due - today).days
        if days > 0:
            left = ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
            return _("due %(date)s, %(left)s") % {"date": long_date(due), "left": left}
        if days == 0:
            return _("due today, %(date)s") % {"date": long_date(due)}
        late = ngettext("%(n)d day overdue", "%(n)d days overdue", -days) % {"n": -days}
        return _("due %(date)s, %(late)s") % {"date": long_date(due), "late": late}
    if kind == "recurring":
        report = next_report_deadline(report_deadlines, today)
        if report is None:
            return _("ongoing")
        return _("ongoing — report before %(date)s") % {"date": long_date(report)}
    if kind == "term":
        return _("by term of office")
    return _("deadline: %(raw)s") % {"raw": raw} if raw else _("no deadline given")
