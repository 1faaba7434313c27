"""A whole quarter (Q3 2026) in seconds: which reminders went out when, to whom, in which
language; escalations after 3 and 10 days overdue; a digest every Monday (holidays moved)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from kernel.clock import FixedClock
from storage.models import Assignment
from tests.scheduler.drive import drive, sent
from tests.scheduler.world import small_province, vn

SETTINGS = Settings()


def build(engine: Engine) -> dict[str, int]:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan(deadlines=["09-20", "12-20"])
        created = vn(2026, 7, 1, 9)
        t1 = world.task(
            1, "Niêm yết công khai thủ tục hành chính tại trụ sở UBND xã", due=date(2026, 8, 14)
        )
        t2 = world.task(2, "Tổ chức đối thoại với Nhân dân", kind="recurring")
        t3 = world.task(3, "Cập nhật cổng thông tin điện tử", due=date(2026, 8, 3))
        a1 = world.assign(t1, "A", created=created, officials=("Lan",))
        a2 = world.assign(t2, "B", created=created)
        a3 = world.assign(t3, "A", created=created, role="coordinating")
        world.commit()
        return {"a1": a1.id or 0, "a2": a2.id or 0, "a3": a3.id or 0}


def mark_done(engine: Engine, assignment_id: int, when: datetime) -> None:
    with Session(engine) as session:
        assignment = session.get(Assignment, assignment_id)
        assert assignment is not None
        assignment.status, assignment.percent = "done", 100
        assignment.last_update_at = assignment.done_at = when
        session.add(assignment)
        session.commit()


def test_a_quarter_of_reminders(engine: Engine) -> None:
    ids = build(engine)
    clock = FixedClock(vn(2026, 7, 1, 0))
    done_at = vn(2026, 9, 8, 10)
    drive(
        engine,
        SETTINGS,
        clock,
        vn(2026, 10, 1, 0),
        events={done_at: lambda: mark_done(engine, ids["a1"], done_at)},
    )
    messages = sent(engine)

    def reminders(who: str, assignment: str) -> list[tuple[date, str]]:
        rows = [m for m in messages if m.who == who and m.assignment_id == ids[assignment]]
        assert all(m.at.hour == 8 and m.at.minute == 0 for m in rows), rows
        assert all(m.kind == "reminder" for m in rows)
        return [(m.at.date(), m.headline) for m in rows]

    silent_vi = "Chưa có cập nhật về nhiệm vụ này trong %d ngày"
    soon_vi, overdue_vi = (
        "Nhắc việc: nhiệm vụ sắp đến hạn",
        "Nhiệm vụ quá hạn: đề nghị hoàn thành hoặc báo cáo vướng mắc",
    )
    assert reminders("Lan", "a1") == [
        (date(2026, 7, 22), silent_vi % 21),
        (date(2026, 8, 7), soon_vi),
        (date(2026, 8, 11), soon_vi),
        (date(2026, 8, 12), silent_vi % 42),
        (date(2026, 8, 13), soon_vi),
        (date(2026, 8, 14), "Nhắc việc: nhiệm vụ đến hạn hôm nay"),
        (date(2026, 8, 17), overdue_vi),
        (date(2026, 8, 20), overdue_vi),
        (date(2026, 8, 24), overdue_vi),  # 23/8 is a Sunday
        (date(2026, 8, 26), overdue_vi),
        (date(2026, 9, 3), overdue_vi),  # 29/8, 1/9 (and the 2/9 nudge) wait out 31/8-2/9
        (date(2026, 9, 4), overdue_vi),
        (date(2026, 9, 7), overdue_vi),  # done on 8/9: nothing after
    ]
    assert reminders("Bob", "a2") == [
        (date(2026, 7, 22), "No update on this task for 21 days"),
        (date(2026, 8, 12), "No update on this task for 42 days"),
        (date(2026, 9, 3), "No update on this task for 64 days"),  # 2/9: holiday
        (date(2026, 9, 14), "Status request for the report due September 20, 2026"),  # 13/9 Sunday
        (date(2026, 9, 23), "No update on this task for 84 days"),
    ]
    # coordinating: the report-period request only, to the commune's chair
    assert reminders("Hùng", "a3") == [
        (
            date(2026, 9, 14),
            "Đề nghị báo cáo tình hình thực hiện cho kỳ báo cáo hạn ngày 20 tháng 9 năm 2026",
        ),
    ]
    escalations = [(m.who, m.at) for m in messages if m.kind == "escalation"]
    assert escalations == [("Hùng", vn(2026, 8, 17, 8)), ("Mai", vn(2026, 8, 24, 8))]
    digests = {
        who: [m.at for m in messages if m.kind == "digest" and m.who == who]
        for who in ("Hùng", "Bob", "Mai", "Lan")
    }
    mondays = [
        vn(2026, 7, 6),
        vn(2026, 7, 13),
        vn(2026, 7, 20),
        vn(2026, 7, 27),
        vn(2026, 8, 3),
        vn(2026, 8, 10),
        vn(2026, 8, 17),
        vn(2026, 8, 24),
    ]
    expected = [vn(2026, 7, 1, 7)]  # the week's digest, missed before the bot started
    expected += [m.replace(hour=8) for m in mondays]  # 07:30 digest, swept on the hour
    expected += [vn(2026, 9, 3, 8)]  # Monday 31/8 to 2/9 are days off
    expected += [vn(2026, 9, d, 8) for d in (7, 14, 21, 28)]
    assert digests["Hùng"] == digests["Bob"] == digests["Mai"] == expected
    assert digests["Lan"] == []


def test_tet_holds_everything_until_the_first_working_morning(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan()
        task = world.task(1, "Tổng kết công tác năm", due=date(2026, 2, 18))  # 2nd day of Tết
        world.assign(task, "A", created=vn(2026, 1, 1, 9), officials=("Lan",))
        world.commit()
    drive(engine, SETTINGS, FixedClock(vn(2026, 2, 9, 0)), vn(2026, 2, 26, 0))
    reminders = [(m.at, m.headline) for m in sent(engine) if m.kind == "reminder"]
    overdue = "Nhiệm vụ quá hạn: đề nghị hoàn thành hoặc báo cáo vướng mắc"
    assert reminders == [
        (vn(2026, 2, 11, 8), "Nhắc việc: nhiệm vụ sắp đến hạn"),
        (vn(2026, 2, 12, 8), "Chưa có cập nhật về nhiệm vụ này trong 42 ngày"),
        # 15/2 (Sunday), 17/2 and 18/2 (Tết), 21/2 (Saturday): one message, the latest
        (vn(2026, 2, 23, 8), overdue),
        (vn(2026, 2, 24, 8), overdue),
    ]
    escalations = [(m.who, m.at) for m in sent(engine) if m.kind == "escalation"]
    assert escalations == [("Hùng", vn(2026, 2, 23, 8))]  # due + 3 days = 21/2 (Saturday)
