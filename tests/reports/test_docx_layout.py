"""Issue 10: the report a province signs (Nghị định 30/2020) — the motto on one line, the
subject at full width naming the plan by number, task text given most of the width, so a
quarter's report of a real plan is a few pages; the chart of an empty unit keeps its titles
apart. Rendered to PDF by LibreOffice (scripts/libreoffice-for-tests.sh installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm
from pypdf import PdfReader
from sqlmodel import Session, select

from bot.config import Settings
from bot.demo import PROVINCE_CODE, demo_plan_path, ensure_demo_data
from bot.reports.chart import build_figure
from bot.reports.files import render
from kernel.clock import VN_TZ
from kernel.i18n import use_locale
from storage.models import Unit
from storage.periods import parse_period
from storage.rollup import rollup

NOW = datetime(2026, 6, 22, 9, tzinfo=VN_TZ)
MOTTO_LETTERS = "CNGHAXHICHNGHAVITNAM"  # the motto's ASCII letters, in order
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
REQUIRED = os.environ.get("PAPI_BOT_REQUIRE_LIBREOFFICE") == "1"


def _quarter_report(session: Session, seeds_dir: Path, folder: Path) -> Path:
    """The demo province with a real plan (seed 000, 21 tasks), its Q2 report as DOCX."""
    plan = demo_plan_path(seeds_dir)
    assert plan.name.startswith("000_")
    ensure_demo_data(session, Settings(), NOW, plan_path=plan)
    session.commit()
    province = session.exec(select(Unit).where(Unit.code == PROVINCE_CODE)).one()
    result = rollup(session, province, parse_period("2026-Q2", NOW.date()), NOW, silence_days=21)
    assert len(result.tasks) >= 17
    with use_locale("vi"):
        return render(session, result, "docx", folder / "report.docx", NOW)


def test_the_layout_in_the_document(session: Session, seeds_dir: Path, tmp_path: Path) -> None:
    document = Document(str(_quarter_report(session, seeds_dir, tmp_path)))
    header = document.tables[0]
    right = header.rows[0].cells[1]
    assert right.width is not None and right.width >= Cm(9.5)  # the motto needs ~89 mm
    texts = [p for p in document.paragraphs if p.text.startswith("Kết quả thực hiện")]
    assert len(texts) == 1
    subject = texts[0]
    assert subject.text.startswith("Kết quả thực hiện Kế hoạch ")
    assert "Chỉ số PAPI tỉnh Bắc Giang năm 2024" in subject.text  # not shouted in capitals
    indent = subject.paragraph_format.left_indent
    assert indent is None or indent < Cm(1)  # the short rule is its own paragraph
    tasks = next(t for t in document.tables if t.rows[0].cells[0].text == "STT")
    widths = [cell.width for cell in tasks.rows[0].cells]
    assert all(w is not None for w in widths)
    assert widths[1] >= Cm(7.5) and widths[1] > 5 * max(w for w in widths if w != widths[1])


def _pdf(docx: Path) -> PdfReader:
    if SOFFICE is None:
        if REQUIRED:
            pytest.fail("LibreOffice is required here: run scripts/libreoffice-for-tests.sh")
        pytest.skip("LibreOffice not installed (scripts/libreoffice-for-tests.sh installs it)")
    profile = docx.parent / "lo-profile"  # a private profile: parallel runs do not collide
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(docx.parent),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return PdfReader(str(docx.with_suffix(".pdf")))


def _letters(line: str) -> str:
    return "".join(ch for ch in line if "A" <= ch <= "Z")


@pytest.mark.libreoffice
def test_the_pdf_is_a_few_pages_with_the_motto_on_one_line(
    session: Session, seeds_dir: Path, tmp_path: Path
) -> None:
    pdf = _pdf(_quarter_report(session, seeds_dir, tmp_path))
    assert len(pdf.pages) <= 5  # 21 tasks; it was 14 pages, a word per line
    first = pdf.pages[0].extract_text().splitlines()
    assert any(MOTTO_LETTERS in _letters(line) for line in first), first[:8]


def test_the_chart_of_an_empty_unit_keeps_its_titles_apart(session: Session) -> None:
    province = Unit(code="E", name="Tỉnh Trống", name_folded="tinh trong", level="province")
    session.add(province)
    session.flush()
    province.path = f"/{province.id}/"
    session.flush()
    result = rollup(session, province, parse_period("2026-Q2", NOW.date()), NOW, silence_days=21)
    with use_locale("vi"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = build_figure(result)
        figure.canvas.draw()
    assert not [w for w in caught if "constrained_layout not applied" in str(w.message)]
    renderer = figure.canvas.get_renderer()
    boxes = [figure._suptitle.get_window_extent(renderer)]
    for axes in figure.axes:
        boxes.append(axes.title.get_window_extent(renderer))
        boxes.extend(t.get_window_extent(renderer) for t in axes.texts)
        if axes.axison:
            boxes.append(axes.xaxis.label.get_window_extent(renderer))
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            assert not first.overlaps(second), (first, second)
