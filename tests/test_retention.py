"""Issue 16: processed-update keys and sent outbox rows are pruned after ``[retention] days``;
undelivered rows, the reminder log and recent rows stay. Issue 12: report jobs and files too."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import AppConfig, RetentionConfig, Settings
from bot.scheduler.jobs import RETENTION_JOB, build_scheduler, prune_old_rows
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import (
    Assignment,
    OutboxMessage,
    ProcessedUpdate,
    ProgressUpdate,
    ReminderLog,
    ReportJob,
)
from storage.queue import add_outbox_rows


def test_old_sent_rows_and_update_keys_go_the_rest_stays(engine: Engine, clock: FixedClock) -> None:
    now = clock.now()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    with session_scope(engine) as session:
        base = {"channel": "telegram", "chat_id": "1"}
        rows = add_outbox_rows(
            session,
            [
                {**base, "text": "old sent", "status": "sent", "sent_at": old},
                {**base, "text": "recent", "status": "sent", "sent_at": recent},
                {**base, "text": "old failed", "status": "failed", "created_at": old},
                {**base, "text": "old pending", "created_at": old},
            ],
        )
        session.add(ReminderLog(key="k1", kind="due", due_at=old, outbox_id=rows[0].id))
        session.add(ProcessedUpdate(channel="telegram", update_key="u-old", processed_at=old))
        session.add(ProcessedUpdate(channel="telegram", update_key="u-new", processed_at=recent))
    pruned = prune_old_rows(engine, Settings(retention=RetentionConfig(days=90)), clock)
    assert (pruned.outbox_rows, pruned.processed_updates) == (1, 1)
    with Session(engine) as session:
        texts = session.exec(select(OutboxMessage.text).order_by(col(OutboxMessage.id))).all()
        assert texts == ["recent", "old failed", "old pending"]
        assert session.exec(select(ProcessedUpdate.update_key)).all() == ["u-new"]
        log = session.exec(select(ReminderLog)).one()
        assert log.key == "k1" and log.outbox_id is None  # the exactly-once key is kept


def test_the_scheduler_prunes_every_night(engine: Engine, clock: FixedClock) -> None:
    scheduler = build_scheduler(engine, Settings(), clock, lambda: None)
    assert scheduler.get_job(RETENTION_JOB) is not None


def _aged(path: Path, moment: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK report")
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    return path


def test_old_report_files_and_jobs_go_evidence_and_history_stay(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Issue 12: rendered reports (the ``ReportJob`` rows and their files under
    data_dir/reports) are pruned after ``[retention] days`` too; a file still waiting in the
    outbox, pending jobs, evidence files and the progress history stay."""
    now = clock.now()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    reports = tmp_path / "reports"
    old_file = _aged(reports / "baocao_X01_Q2_20260322.xlsx", old)
    queued_file = _aged(reports / "baocao_X01_Q2_20260322.docx", old)
    recent_file = _aged(reports / "baocao_X01_Q2_20260324.xlsx", recent)
    evidence = _aged(tmp_path / "evidence" / "ab12.jpg", old)
    with session_scope(engine) as session:
        for status, finished in (("done", old), ("failed", old), ("done", recent)):
            session.add(
                ReportJob(
                    channel="telegram",
                    chat_id="1",
                    status=status,
                    created_at=finished,
                    finished_at=finished,
                )
            )
        session.add(ReportJob(channel="telegram", chat_id="1", status="pending", created_at=old))
        add_outbox_rows(
            session,
            [
                {
                    "channel": "telegram",
                    "chat_id": "1",
                    "text": "",
                    "file_path": str(queued_file),
                    "file_name": queued_file.name,
                    "created_at": old,
                }
            ],
        )
        session.add(
            ProgressUpdate(assignment_id=_an_assignment(session), status="done", created_at=old)
        )
    with Session(engine) as session:
        history = len(session.exec(select(ProgressUpdate)).all())
    settings = Settings(app=AppConfig(data_dir=tmp_path), retention=RetentionConfig(days=90))
    pruned = prune_old_rows(engine, settings, clock)
    assert (pruned.report_jobs, pruned.report_files) == (2, 1)
    assert not old_file.exists()
    assert queued_file.exists() and recent_file.exists() and evidence.exists()
    with Session(engine) as session:
        left = session.exec(select(ReportJob.status).order_by(col(ReportJob.id))).all()
        assert left == ["done", "pending"]
        assert len(session.exec(select(ProgressUpdate)).all()) == history >= 1


def test_no_reports_folder_is_nothing_to_prune(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    settings = Settings(app=AppConfig(data_dir=tmp_path / "fresh"))
    assert prune_old_rows(engine, settings, clock).report_files == 0


def _an_assignment(session: Session) -> int:
    from bot.demo import SHIPPED_PLAN, ensure_demo_data

    ensure_demo_data(session, Settings(), datetime(2026, 6, 22, tzinfo=UTC), plan_path=SHIPPED_PLAN)
    found = session.exec(select(Assignment.id)).first()
    assert found is not None
    return found
