"""The roll-up as one flat CSV table (UTF-8 with BOM, so Excel opens Vietnamese correctly).

One row per figure group: the total, each PAPI dimension, each child unit, each task. The
``section`` column says which; the figures are the same columns everywhere.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bot.reports.cells import csv_row
from bot.reports.text import dimension_name
from bot.reports.xlsx import count_cells, count_headers
from kernel.i18n import _
from storage.rollup import UNCLASSIFIED, Rollup


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
        csv.writer(handle).writerows(csv_row(row) for row in csv_rows(result))
    return path
