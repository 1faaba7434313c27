"""The roll-up as one flat CSV table, written for Excel in the reader's regional settings.

UTF-8 with a BOM (so Excel reads the diacritics), and in Vietnamese the separators of the
Vietnamese regional settings: ``;`` between fields and a decimal comma ("24,5"); in English
``,`` and a decimal point. (No ``sep=`` line: Excel then ignores the BOM.)

One row per figure group: the total, each PAPI dimension, each child unit, each task. The
``section`` column says which; the figures are the same columns everywhere.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bot.reports.cells import csv_row
from bot.reports.columns import count_cells, count_headers
from bot.reports.text import dimension_name, number
from kernel.i18n import _, current_locale
from storage.rollup import UNCLASSIFIED, Rollup


def _localised(cells: list[object]) -> list[object]:
    return [number(c) if isinstance(c, float) else c for c in cells]


def delimiter() -> str:
    """The list separator of the current locale's regional settings."""
    return ";" if current_locale() == "vi" else ","


def csv_rows(result: Rollup) -> list[list[object]]:
    rows: list[list[object]] = [[_("Section"), _("Code"), _("Name"), *count_headers()]]
    rows.append([_("Total"), result.unit.code, result.unit.name, *count_cells(result.totals)])
    for row in result.dimensions:
        if row.counts.total or row.code != UNCLASSIFIED:
            rows.append(
                [_("Dimension"), row.code, dimension_name(row.code), *count_cells(row.counts)]
            )
    for unit in result.children:
        rows.append([_("Unit"), unit.code, unit.name, *count_cells(unit.counts)])
    for task in result.tasks:
        rows.append([_("Task"), task.stt or str(task.order), task.text, *count_cells(task.counts)])
    return rows


def write_csv(result: Rollup, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=delimiter()).writerows(
            csv_row(_localised(row)) for row in csv_rows(result)
        )
    return path
