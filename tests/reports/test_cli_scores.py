"""`papi-bot report` and `papi-bot scores import`, and the scores a plan's text states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.reports.scores import scores_from_text
from storage.models import Score, Unit
from tests.reports.dataset import build_three_level


@pytest.fixture
def cli(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    with Session(engine) as session:
        build_three_level(session, with_scores=False)
        session.commit()
    config = tmp_path / "config.toml"
    config.write_text(f'[app]\ndefault_locale = "vi"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    yield CliRunner()


def _scores(engine: Engine) -> dict[tuple[int, str], float]:
    with Session(engine) as session:
        return {(s.year, s.code): s.score for s in session.exec(select(Score))}


def test_report_xlsx_for_a_past_quarter(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "q3.xlsx"
    result = cli.invoke(app, ["report", "--unit", "24", "--period", "2024-Q3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Tỉnh Bắc Giang, quý III/2024 — hoàn thành 4/11 (36,4%)" in result.output
    sheet = load_workbook(out)["Tổng hợp"]
    # past quarter, as of 01/10/2024: T3 (due 30/09) is overdue in every commune too
    assert [c.value for c in sheet[5]][:10] == ["Tổng cộng", 11, 1, 4, 4, 2, 4, 7, 2, 36.4]


@pytest.mark.parametrize("fmt", ["docx", "csv", "png"])
def test_report_other_formats(cli: CliRunner, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    args = ["report", "--unit", "213", "--period", "2024", "--format", fmt, "--out", str(out)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "24", "--period", "2024-Q9"], "kỳ báo cáo '2024-Q9' không hợp lệ"),
        (["--unit", "99999", "--period", "2024"], "không có đơn vị mã 99999"),
        (["--unit", "24", "--period", "2024", "--format", "pdf"], "định dạng pdf không hợp lệ"),
    ],
)
def test_report_bad_input(cli: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.xlsx"
    result = cli.invoke(app, ["report", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_scores_import_csv(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text('unit,year,code,score\n24,2023,3,"4,25"\n24,2023,8.1,0.46\n', encoding="utf-8")
    result = cli.invoke(app, ["scores", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "điểm số: thêm 2, cập nhật 0" in result.output
    assert _scores(engine) == {(2023, "3"): 4.25, (2023, "8.1"): 0.46}
    path.write_text("unit,year,code,score\n24,2023,3,4.5\n", encoding="utf-8")
    assert "thêm 0, cập nhật 1" in cli.invoke(app, ["scores", "import", str(path)]).output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("unit,year,code,score\n24,2023,3,4.25\n77,2023,3,1\n", "dòng 3: không có đơn vị mã '77'"),
        ("unit,year,code,score\n24,2023,9,4\n", "dòng 2: mã chỉ số PAPI '9' không hợp lệ"),
        ("unit,year,code,score\n24,2023,3,11\n", "dòng 2: điểm 11.0 nằm ngoài khoảng 0..10"),
        ("unit,year,code,score\n24,năm,3,1\n", "dòng 2: năm và điểm phải là số"),
        ("unit,code,score\n24,3,1\n", "thiếu cột: year"),
    ],
)
def test_scores_import_refuses_bad_files_whole(
    cli: CliRunner, engine: Engine, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = cli.invoke(app, ["scores", "import", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert _scores(engine) == {}


def test_scores_import_from_plan_text(cli: CliRunner, engine: Engine, seeds_dir: Path) -> None:
    plan = next(seeds_dir.glob("004_*.txt"))
    assert cli.invoke(app, ["scores", "import", str(plan)]).exit_code == 2  # needs --unit
    result = cli.invoke(app, ["scores", "import", str(plan), "--unit", "24"])
    assert result.exit_code == 0, result.output
    scores = _scores(engine)
    assert scores[(2021, "8")] == 2.58 and scores[(2021, "total")] == 42.153
    none = next(seeds_dir.glob("000_*.txt"))
    result = cli.invoke(app, ["scores", "import", str(none), "--unit", "24"])
    assert result.exit_code == 2 and "không nêu điểm PAPI nào" in result.output


def test_scores_stated_in_the_seed_plans(seeds_dir: Path) -> None:
    ocr = scores_from_text(next(seeds_dir.glob("001_*.txt")).read_text(encoding="utf-8"))
    assert ocr.year == 2020
    assert ocr.values == {
        "total": 44.32,
        "1": 5.48,
        "2": 5.51,
        "4": 6.98,
        "6": 7.13,
        "7": 3.27,
        "8": 3.19,
    }
    bac_kan = scores_from_text(next(seeds_dir.glob("004_*.txt")).read_text(encoding="utf-8"))
    assert bac_kan.year == 2021
    assert bac_kan.values == {
        "total": 42.153,
        "1": 4.86,
        "3": 4.25,
        "7": 3.65,
        "8": 2.58,
        "1.1": 0.66,
        "1.4": 0.96,
        "2.1": 0.84,
        "7.3": 0.79,
        "8.1": 0.46,
        "8.3": 0.44,
    }
    assert scores_from_text("Không có điểm nào.").values == {}


def test_report_on_a_unit_without_path(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        session.add(Unit(code="LOST", name="Xã Lạc", name_folded="xa lac", level="commune"))
        session.commit()
    out = tmp_path / "lost.xlsx"
    result = cli.invoke(app, ["report", "--unit", "LOST", "--period", "2024", "--out", str(out)])
    assert result.exit_code == 2
    assert "đơn vị LOST chưa có vị trí trong cây đơn vị hành chính" in result.output
    assert not out.exists()
