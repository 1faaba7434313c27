from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.cli import app
from kernel.clock import VN_TZ, set_local_zone
from storage.models import Official, OutboxMessage
from tests.scheduler.test_digest import commune_a


@pytest.fixture
def runner(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    with Session(engine) as session:
        commune_a(session)
    yield CliRunner()


def outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_digest_prints_without_sending(runner: CliRunner, engine: Engine) -> None:
    result = runner.invoke(app, ["digest", "--unit", "A", "--as-of", "2026-08-17T07:30"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Tổng hợp tuần: Xã An Hà, ngày 17 tháng 8 năm 2026")
    assert "thiếu kinh phí" in result.stdout
    assert len(outbox(engine)) == 1  # only the fixture's undeliverable row


def test_digest_send_queues_it_to_the_chair(runner: CliRunner, engine: Engine) -> None:
    result = runner.invoke(app, ["digest", "--unit", "A", "--send", "--as-of", "2026-08-17T07:30"])
    assert result.exit_code == 0, result.output
    assert "Đã xếp 1 tin nhắn cho 1 người nhận" in result.stdout
    queued = outbox(engine)[-1]
    assert (queued.kind, queued.chat_id, queued.status) == ("digest", "700002", "pending")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "NOPE"], "Không có đơn vị nào mang mã NOPE."),
        (["--unit", "A", "--as-of", "hôm qua"], "--as-of: cần ngày giờ"),
        (["--unit", "A", "--send", "--as-of", "2026-08-17T07:30"], None),
    ],
)
def test_digest_bad_input(
    runner: CliRunner, engine: Engine, args: list[str], message: str | None
) -> None:
    if message is None:  # a unit nobody reads: make A chairless first
        with Session(engine) as session:
            for official in session.exec(select(Official).where(Official.role == "chair")):
                official.active = False
                session.add(official)
            session.commit()
        message = "chưa có Chủ tịch hoặc cán bộ đầu mối để gửi; chưa gửi tin nào."
    before = len(outbox(engine))
    result = runner.invoke(app, ["digest", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(outbox(engine)) == before


def test_digest_as_of_uses_the_configured_zone(runner: CliRunner, tmp_path: Path) -> None:
    """20:00 on 17 August in New York is the 18th in Hà Nội: the digest is of the 17th."""
    path = tmp_path / "config.toml"
    path.write_text('[app]\ntimezone = "America/New_York"\n', encoding="utf-8")
    try:
        result = runner.invoke(
            app, ["--config", str(path), "digest", "--unit", "A", "--as-of", "2026-08-17T20:00"]
        )
    finally:
        set_local_zone(VN_TZ)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Tổng hợp tuần: Xã An Hà, ngày 17 tháng 8 năm 2026")
