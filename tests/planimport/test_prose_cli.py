"""``papi-bot import-plan`` on a prose plan: --json, the review file and its round trip,
storing (tasks, assignments, the stated scores), and refusals that write nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.planimport import parse_plan
from bot.planimport.tabular import read_template, write_review
from storage.models import Assignment, Plan, Score, Task, Unit
from tests.planimport.conftest import make_province

SEED_001 = "001_4fec8051db42b886.txt"
Invoke = Callable[..., Result]


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["import-plan", *args])

    yield invoke


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    with Session(engine) as session:
        return tuple(  # type: ignore[return-value]
            int(session.exec(select(func.count()).select_from(m)).one())
            for m in (Plan, Task, Assignment, Score)
        )


def test_json_of_a_prose_plan(run: Invoke, seeds_dir: Path) -> None:
    result = run(str(seeds_dir / SEED_001), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["plan"]["scores"] == {
        "year": 2020,
        "values": {"1": 5.48, "2": 5.51, "4": 6.98, "6": 7.13, "7": 3.27, "8": 3.19},
    }
    first = data["tasks"][0]
    assert first["stt"] == "1.a" and first["dimension"] == 1
    assert first["deadline"]["kind"] == "recurring"
    assert set(first["flags"]) == {
        "no_lead_agency",
        "from_prose",
        "ocr_damaged",
        "deadline_assumed",
    }


def test_the_summary_names_the_prose_flags_in_vietnamese(
    run: Invoke, engine: Engine, seeds_dir: Path
) -> None:
    make_province(engine)
    result = run(str(seeds_dir / SEED_001), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "đọc từ văn bản kế hoạch" in result.stdout
    assert "văn bản có vẻ bị lỗi khi quét" in result.stdout
    assert "tạm coi là thường xuyên" in result.stdout
    assert _counts(engine) == (0, 0, 0, 0)


def test_the_review_file_round_trip_gives_the_same_plan(seeds_dir: Path, tmp_path: Path) -> None:
    parsed = parse_plan(seeds_dir / SEED_001)
    review = tmp_path / "review.xlsx"
    write_review(parsed, review)
    again = read_template(review)
    assert again.to_json() == parsed.to_json()
    assert (again.number, again.scores_year) == (parsed.number, 2020)


def test_the_reviewed_file_gives_the_reviewed_plan(seeds_dir: Path, tmp_path: Path) -> None:
    review = tmp_path / "review.xlsx"
    write_review(parse_plan(seeds_dir / SEED_001), review)
    book = load_workbook(review)
    sheet = book["Nhiệm vụ"]
    header = [cell.value for cell in sheet[1]]
    text, lead, deadline, kind, flags = (
        header.index(name) + 1
        for name in (
            "Nhiệm vụ",
            "Cơ quan chủ trì",
            "Thời gian hoàn thành",
            "Loại hạn",
            "Cần xem lại",
        )
    )
    # Row 2 (1.a): the admin corrects the scan, names the lead and gives a quarter.
    sheet.cell(2, text).value = "Triển khai thực hiện tốt các văn bản hướng dẫn về bầu cử."
    sheet.cell(2, lead).value = "UBND cấp xã"
    sheet.cell(2, deadline).value = "Quý II/2021"
    sheet.cell(2, kind).value = None
    # Row 3 (1.b): the admin confirms "Thường xuyên" by deleting the reason.
    sheet.cell(3, flags).value = str(sheet.cell(3, flags).value).replace(", deadline_assumed", "")
    book.save(review)
    first, second, third, *_rest = read_template(review).tasks
    assert first.lead == ["UBND cấp xã"]
    assert (first.deadline.kind, str(first.deadline.due)) == ("date", "2021-06-30")
    assert first.flags == ["from_prose"]  # corrected text, a lead, a deadline: only the origin
    assert second.flags == ["no_lead_agency", "from_prose", "ocr_damaged"]
    assert "deadline_assumed" in third.flags


def test_a_bad_score_in_the_review_file_is_refused(seeds_dir: Path, tmp_path: Path) -> None:
    from bot.planimport import PlanFormatError

    review = tmp_path / "review.xlsx"
    write_review(parse_plan(seeds_dir / SEED_001), review)
    book = load_workbook(review)
    meta = book["Kế hoạch"]
    for row in meta.iter_rows():
        if row[0].value == "scores":
            row[1].value = "1=5.48; 9=abc"
    book.save(review)
    with pytest.raises(PlanFormatError, match=r"bad score '9=abc'"):
        read_template(review)


def test_storing_a_prose_plan(run: Invoke, engine: Engine, seeds_dir: Path) -> None:
    make_province(engine)
    result = run(str(seeds_dir / SEED_001), "--province", "TN")
    assert result.exit_code == 0, result.output
    assert "45 nhiệm vụ" in result.stdout
    with Session(engine) as session:
        province = session.exec(select(Unit).where(col(Unit.level) == "province")).one()
        scores = {
            s.code: s.score
            for s in session.exec(select(Score).where(col(Score.unit_id) == province.id))
        }
        assert scores == {"1": 5.48, "2": 5.51, "4": 6.98, "6": 7.13, "7": 3.27, "8": 3.19}
        assert {s.year for s in session.exec(select(Score))} == {2020}
        home = session.exec(select(Unit).where(col(Unit.name) == "Sở Nội vụ")).one()
        led = session.exec(
            select(Task.stt)
            .join(Assignment, col(Assignment.task_id) == col(Task.id))
            .where(col(Assignment.unit_id) == home.id, col(Assignment.role) == "lead")
        ).all()
        # Its own duties, and those of "Các sở, ban, ngành" (every department) under IV.1.
        assert {"IV.2.1", "IV.2.2"} <= set(led)
        assert {stt for stt in led if not stt.startswith("IV.1.")} == {"IV.2.1", "IV.2.2"}
        task = session.exec(select(Task).where(col(Task.stt) == "1.a")).one()
        assert task.dimension == 1 and "from_prose" in task.flags
        assert task.section is not None and task.section.startswith("Chi s6 ndi dung 1")


def test_the_reviewed_file_replaces_the_stored_prose_plan(
    run: Invoke, engine: Engine, seeds_dir: Path, tmp_path: Path
) -> None:
    make_province(engine)
    review = tmp_path / "review.xlsx"
    first = run(str(seeds_dir / SEED_001), "--review-out", str(review))
    assert first.exit_code == 0, first.output
    stored = _counts(engine)
    assert run(str(review)).exit_code == 2  # the same plan: refused without --replace
    again = run(str(review), "--replace")
    assert again.exit_code == 0, again.output
    assert _counts(engine) == stored
    with Session(engine) as session:
        flags = [t.flags for t in session.exec(select(Task).order_by(col(Task.order)))]
    assert all("from_prose" in f for f in flags)


def test_garbled_and_taskless_text_is_refused_and_nothing_written(
    run: Invoke, engine: Engine, tmp_path: Path
) -> None:
    make_province(engine)
    garbled = tmp_path / "garbled.txt"
    garbled.write_text(" ".join(["Pé s6 n@ chirc ¢6 1a x4 hiww jz"] * 10), encoding="utf-8")
    taskless = tmp_path / "taskless.txt"
    taskless.write_text("IV. TỔ CHỨC THỰC HIỆN\n\nCác cơ quan quán triệt.\n", encoding="utf-8")
    for path, message in ((garbled, "hỏng quá nhiều"), (taskless, "không có nhiệm vụ nào")):
        result = run(str(path), "--province", "TN")
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and path.name in lines[0] and message in lines[0]
        assert result.stdout == ""
    assert _counts(engine) == (0, 0, 0, 0)
