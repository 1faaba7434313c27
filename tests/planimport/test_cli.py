"""``papi-bot import-plan``: JSON schema, dry run, storing, bad input → exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.models import Assignment, Plan, Task
from tests.planimport.conftest import make_province

SEED_000 = "000_6a26aac315758a40.txt"
Invoke = Callable[..., Result]


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["import-plan", *args])

    yield invoke


def _plans(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        plans, tasks, assignments = (
            int(session.exec(select(func.count()).select_from(m)).one())
            for m in (Plan, Task, Assignment)
        )
    return plans, tasks, assignments


def test_json_output_schema(run: Invoke, seeds_dir: Path) -> None:
    result = run(str(seeds_dir / "003_a94ea9f0ba2d1e58.txt"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"plan", "tasks"}
    assert data["plan"] == {
        "title": data["plan"]["title"],
        "year": 2024,
        "report_deadlines": [],
    }
    first = data["tasks"][0]
    assert set(first) == {
        "stt", "text", "lead", "coordinating", "deadline", "dimension", "subdimension",
        "confidence", "flags",
    }  # fmt: skip
    assert first["deadline"] == {
        "raw": "Quý II; triển khai đánh giá trong năm 2024",
        "kind": "date",
        "due": "2024-06-30",
        "note": "triển khai đánh giá trong năm 2024",
    }
    assert first["lead"] == ["UBND các huyện, thành phố"]
    assert len(data["tasks"]) == 17


def test_dry_run_prints_a_vietnamese_summary_and_writes_nothing(
    run: Invoke, engine: Engine, seeds_dir: Path, tmp_path: Path
) -> None:
    make_province(engine)
    review = tmp_path / "review.xlsx"
    result = run(
        str(seeds_dir / "004_d6a133a28596482b.txt"), "--dry-run", "--review-out", str(review)
    )
    assert result.exit_code == 0, result.output
    assert "88 nhiệm vụ" in result.stdout
    assert "12-12" in result.stdout
    assert "Chạy thử" in result.stdout
    assert "Công an tỉnh" in result.stdout
    assert (
        "STT 1.2 (dòng 138): chưa hiểu thời hạn" in result.stdout
    )  # named, matches no unit of this province
    assert review.is_file()
    assert _plans(engine) == (0, 0, 0)


def test_import_stores_and_refuses_a_second_time(
    run: Invoke, engine: Engine, seeds_dir: Path
) -> None:
    make_province(engine)
    path = str(seeds_dir / SEED_000)
    first = run(path, "--province", "TN")
    assert first.exit_code == 0, first.output
    assert "22 nhiệm vụ" in first.stdout
    stored = _plans(engine)
    assert stored[:2] == (1, 22) and stored[2] > 22
    again = run(path)  # the only province is found by itself
    assert again.exit_code == 2
    assert "--replace" in again.stderr
    assert _plans(engine) == stored
    replaced = run(path, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert _plans(engine) == stored


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "missing.txt"),
        ("empty.txt", b"", "empty.txt"),
        ("plan.odt", b"data", "plan.odt"),
        ("plan.docx", b"not a zip", "plan.docx"),
        ("notable.txt", "Chỉ có văn bản.\n".encode(), "notable.txt"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    run: Invoke, engine: Engine, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    make_province(engine)
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run(str(path), "--province", "TN")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert result.stdout == ""
    assert _plans(engine) == (0, 0, 0)


def test_unknown_province_code(run: Invoke, engine: Engine, seeds_dir: Path) -> None:
    make_province(engine)
    result = run(str(seeds_dir / SEED_000), "--province", "XX")
    assert result.exit_code == 2
    assert "XX" in result.stderr
    assert _plans(engine) == (0, 0, 0)
