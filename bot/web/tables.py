"""Any console table as an XLSX file: a header row, then the rows, every text cell through
``bot.reports.cells`` (an official's note starting with "=" stays text, never a formula)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.reports.cells import append_row, save_workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet named ``title``: the header row, then the rows."""
    from openpyxl import Workbook  # ≈0.4 s with PIL and numpy: not before `run` polls

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    append_row(sheet, header)
    for row in rows:
        append_row(sheet, row)
    with tempfile.TemporaryDirectory() as folder:
        return save_workbook(book, Path(folder) / "table.xlsx").read_bytes()


def xlsx_response(data: bytes, name: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
