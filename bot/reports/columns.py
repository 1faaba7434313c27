"""The count columns every tabular report shares (XLSX and CSV), in one order.

Apart from ``bot.reports.xlsx`` so that a CSV report does not load openpyxl (≈ 0.2 s).
"""

from __future__ import annotations

from kernel.i18n import _
from storage.rollup import Counts

Value = str | int | float | None


def count_headers() -> list[str]:
    return [
        _("Assignments"),
        _("Not started"),
        _("In progress"),
        _("Done"),
        _("Blocked"),
        _("Overdue"),
        _("Silent"),
        _("Done in period"),
        _("Completion (%)"),
    ]


def count_cells(counts: Counts) -> list[Value]:
    return [
        counts.total,
        counts.not_started,
        counts.in_progress,
        counts.done,
        counts.blocked,
        counts.overdue,
        counts.silent,
        counts.done_in_period,
        counts.completion,
    ]
