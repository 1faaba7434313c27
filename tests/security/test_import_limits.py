"""Plan files too big to read safely are refused before they are read: zip bombs, huge
tables. A clear message in the user's language, nothing imported."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.planimport import PlanFormatError, parse_plan
from bot.planimport import limits as limits_module
from bot.planimport.limits import MB, XLSX_TAGS, ImportLimits
from storage.models import Plan, Task
from tests.planimport.conftest import make_province


def _template(path: Path, rows: int) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Nhiệm vụ")
    sheet.append(["STT", "Nhiệm vụ", "Cơ quan chủ trì"])
    for number in range(1, rows + 1):
        sheet.append([str(number), f"Tổ chức hội nghị đối thoại số {number}", "Sở Nội vụ"])
    book.save(path)
    return path


def _bomb(valid: Path, part: str, unpacked_mb: int) -> Path:
    """``valid`` with ``part`` replaced by ``unpacked_mb`` MB of blanks (deflated to ~KB)."""
    bomb = valid.with_name("bomb" + valid.suffix)
    with zipfile.ZipFile(valid) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            if item.filename != part:
                target.writestr(item, source.read(item.filename), zipfile.ZIP_DEFLATED)
                continue
            head = source.read(part)
            info = zipfile.ZipInfo(part)
            info.compress_type = zipfile.ZIP_DEFLATED
            # Valid XML, then megabytes of whitespace inside it.
            with target.open(info, "w", force_zip64=True) as stream:
                cut = head.rfind(b"</")
                stream.write(head[:cut])
                blank = b" " * MB
                for _ in range(unpacked_mb):
                    stream.write(blank)
                stream.write(head[cut:])
    return bomb


@pytest.fixture
def no_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl and python-docx must not even open a refused file."""
    import docx
    import openpyxl

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the reader opened a file the limits should have refused")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(docx, "Document", refuse)


def _refused(path: Path, limits: ImportLimits | None = None) -> str:
    started = time.monotonic()
    with pytest.raises(PlanFormatError) as caught:
        parse_plan(path, limits=limits)
    assert time.monotonic() - started < 5
    return str(caught.value)


@pytest.mark.usefixtures("no_readers")
def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    valid = _template(tmp_path / "plan.xlsx", 3)
    bomb = _bomb(valid, "xl/worksheets/sheet1.xml", 60)
    assert bomb.stat().st_size < 1 * MB
    message = _refused(bomb)
    assert "bomb.xlsx" in message and "tối đa 50 MB" in message


@pytest.mark.usefixtures("no_readers")
def test_a_strongly_compressed_part_is_refused(tmp_path: Path) -> None:
    valid = _template(tmp_path / "plan.xlsx", 3)
    bomb = _bomb(valid, "xl/styles.xml", 5)  # 5 MB: under the total, not the ratio
    assert "có chủ đích" in _refused(bomb)


@pytest.mark.usefixtures("no_readers")
def test_a_docx_zip_bomb_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    document = Document()
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["STT", "Nhiệm vụ", "Cơ quan chủ trì"], strict=True):
        cell.text = text
    valid = tmp_path / "plan.docx"
    document.save(str(valid))
    assert "tối đa 50 MB" in _refused(_bomb(valid, "word/document.xml", 60))


@pytest.mark.usefixtures("no_readers")
def test_too_many_xlsx_rows_are_refused_before_openpyxl_reads_them(tmp_path: Path) -> None:
    message = _refused(_template(tmp_path / "big.xlsx", 6000))
    assert "quá nhiều dòng" in message and "6001" in message and "5000" in message


def test_too_many_docx_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = Document()
    table = document.add_table(rows=30, cols=3)
    for cell, text in zip(table.rows[0].cells, ["STT", "Nhiệm vụ", "Cơ quan chủ trì"], strict=True):
        cell.text = text
    path = tmp_path / "plan.docx"
    document.save(str(path))
    assert "(30;" in _refused(path, ImportLimits(max_rows=20))
    assert "quá nhiều ô" in _refused(path, ImportLimits(max_cells=50))


def test_csv_and_text_rows(tmp_path: Path) -> None:
    rows = "".join(f"{n}\tTổ chức hội nghị {n}\tSở Nội vụ\n" for n in range(1, 31))
    text = tmp_path / "plan.txt"
    text.write_text("STT\tNhiệm vụ\tCơ quan chủ trì\n" + rows, encoding="utf-8")
    assert "quá nhiều dòng (31;" in _refused(text, ImportLimits(max_rows=30))
    csv_file = tmp_path / "plan.csv"
    csv_file.write_text("STT,Nhiệm vụ,Cơ quan chủ trì\n" + rows.replace("\t", ","), "utf-8")
    assert "quá nhiều dòng (31;" in _refused(csv_file, ImportLimits(max_rows=30))
    assert len(parse_plan(csv_file, limits=ImportLimits(max_rows=31)).tasks) == 30


def test_a_file_too_large(tmp_path: Path) -> None:
    path = _template(tmp_path / "plan.xlsx", 3)
    assert "tệp quá lớn" in _refused(path, ImportLimits(max_file_bytes=100))


def test_tags_cut_between_chunks_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _template(tmp_path / "plan.xlsx", 40)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
        expected = [len(pattern.findall(xml)) for pattern in XLSX_TAGS]
        for chunk in (1, 5, 7, 64, 1000):
            monkeypatch.setattr(limits_module, "_CHUNK", chunk)
            assert limits_module._count(archive, "xl/worksheets/sheet1.xml", XLSX_TAGS) == (
                expected
            )
    assert expected == [41, 123]


def test_a_lying_size_header_is_not_trusted(tmp_path: Path) -> None:
    """A part whose header declares less than it unpacks to fails instead of unpacking on."""
    valid = _template(tmp_path / "plan.xlsx", 3)
    bomb = _bomb(valid, "xl/worksheets/sheet1.xml", 3)
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    # Declare 1 KB in the local header (zip64, 8 bytes) and the central directory (4 bytes).
    for width in (8, 4):
        real = info.file_size.to_bytes(width, "little")
        assert real in data
        data = data.replace(real, (1024).to_bytes(width, "little"))
    bomb.write_bytes(bytes(data))
    message = _refused(bomb)
    assert "CRC" in message, message


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    config = tmp_path / "limits.toml"
    config.write_text("[imports]\nmax_rows = 10\n", encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    yield CliRunner()


def test_import_plan_refuses_in_vietnamese_and_imports_nothing(
    cli: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    make_province(engine)
    path = _template(tmp_path / "plan.xlsx", 12)
    result = cli.invoke(app, ["import-plan", str(path)])
    assert result.exit_code == 2
    assert "quá nhiều dòng (13; tối đa 10)" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Plan)).one() == 0
        assert session.exec(select(func.count()).select_from(Task)).one() == 0
