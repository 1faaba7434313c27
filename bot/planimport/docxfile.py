"""DOCX plans (python-docx): the paragraphs give the title and report calendar, the tables
give the rows.

A vertically merged cell (``w:vMerge`` continue) means "same as the row above": lead,
coordinating and deadline cells take the value above; a merged STT or task-text cell is left
blank so the row is not read as a second task. Horizontally merged cells appear once.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from bot.planimport.limits import DOCX_PARTS, DOCX_TAGS, ImportLimits, check_archive
from bot.planimport.model import PlanFormatError
from bot.planimport.table import RawRow, header_roles
from kernel.i18n import _

_QN = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REPEAT_ROLES = ("lead", "coordinating", "deadline")


def _cell_text(tc: Any) -> str:
    paragraphs = tc.iter(f"{_QN}p")
    return "\n".join("".join(t.text or "" for t in p.iter(f"{_QN}t")) for p in paragraphs)


def _merge_kind(tc: Any) -> str | None:
    props = tc.find(f"{_QN}tcPr")
    if props is None:
        return None
    merge = props.find(f"{_QN}vMerge")
    if merge is None:
        return None
    return str(merge.get(f"{_QN}val") or "continue")


def _table_rows(table: Any, table_number: int) -> list[RawRow]:
    rows: list[RawRow] = []
    above: list[str] = []
    roles: dict[str, int] | None = None
    for row_number, tr in enumerate(table._tbl.tr_lst, start=1):
        cells: list[str] = []
        continued: list[bool] = []
        for tc in tr.tc_lst:
            span = int(tc.grid_span) if tc.grid_span else 1
            text = _cell_text(tc)
            merged = _merge_kind(tc) == "continue"
            cells.extend([text] + [""] * (span - 1))
            continued.extend([merged] * span)
        roles = header_roles(cells) or roles
        repeat = {roles[r] for r in _REPEAT_ROLES if roles and r in roles}
        for index, merged in enumerate(continued):
            if merged:
                cells[index] = above[index] if index in repeat and index < len(above) else ""
        rows.append(RawRow(cells=cells, where=f"table {table_number} row {row_number}"))
        above = cells
    return rows


def docx_rows(path: Path, limits: ImportLimits | None = None) -> tuple[list[RawRow], list[str]]:
    """The rows of every table (in order) and the document's paragraphs as lines."""
    import docx  # python-docx, imported here: only DOCX imports pay for it

    if not zipfile.is_zipfile(path):
        raise PlanFormatError(_("%(file)s: not a DOCX file (not a zip archive)") % {"file": path})
    check_archive(path, limits or ImportLimits(), DOCX_PARTS, DOCX_TAGS)  # before it unpacks
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for a broken package
        raise PlanFormatError(
            _("%(file)s: cannot read the DOCX file: %(error)s") % {"file": path, "error": exc}
        ) from exc
    lines = [paragraph.text for paragraph in document.paragraphs]
    rows: list[RawRow] = []
    width: int | None = None  # columns of the plan table, once its header is found
    for number, table in enumerate(document.tables, start=1):
        table_rows = _table_rows(table, number)
        if width is None:
            header = next((r for r in table_rows if header_roles(r.cells)), None)
            width = len(header.cells) if header else None
            rows.extend(table_rows)
        elif table_rows and len(table_rows[0].cells) == width:
            rows.extend(table_rows)  # the plan table going on after a page or section break
        else:
            break  # another table (signatures, "Nơi nhận"): the plan table has ended
    return rows, lines
