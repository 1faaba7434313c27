"""Layout pieces of the Nghị định 30/2020 report: fixed column widths, borderless tables,
the short rules under centred headings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

TEXT_WIDTH_CM = 16.5  # A4 minus the 30 mm and 15 mm margins
HEADER_COLUMNS_CM = (6.7, 9.8)
# The task text gets most of the width, so a quarter's report is a few pages.
TASK_COLUMNS_CM = (1.0, 8.0, 1.25, 1.25, 1.25, 1.25, 1.25, 1.25)
UNIT_COLUMNS_CM = (4.9, 1.6, 1.5, 1.5, 1.5, 1.5, 2.0, 2.0)
CELL_MARGIN_CM = 0.1
BLOCKED_COLUMNS_CM = (3.5, 6.5, 4.5, 2.0)


def _rule(paragraph: Any, indent_cm: float) -> None:
    """A short solid line under a centred block: a bottom border on an indented paragraph."""
    paragraph.paragraph_format.left_indent = Cm(indent_cm)
    paragraph.paragraph_format.right_indent = Cm(indent_cm)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def widths(table: Any, widths_cm: Sequence[float]) -> None:
    """Fixed column widths (Word reads the cells, LibreOffice the grid: set both)."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        column.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):  # narrow margins: "Hoàn thành" fits a 1,25 cm column
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(int(Cm(CELL_MARGIN_CM).twips)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.append(layout)
    table._tbl.tblPr.append(margins)


def rule_below(container: Any, indent_cm: float) -> None:
    """The short line under a centred text: an empty, low paragraph of its own, so the text
    above keeps its full width (indenting the text itself squeezed it into many lines)."""
    rule = container.add_paragraph()
    rule.alignment = WD_ALIGN_PARAGRAPH.CENTER
    rule.paragraph_format.space_after = Pt(0)
    rule.paragraph_format.line_spacing = Pt(4)
    _rule(rule, indent_cm)


def no_borders(table: Any) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)
