"""Issue 10: digests that add up, go to the subtree's coordinator, and show the task number."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.scheduler.digest import collect, render
from bot.scheduler.sweep import run_digests, sweep
from bot.scheduler.weekly import digest_readers
from kernel.clock import FixedClock
from kernel.i18n import use_locale
from storage.models import OutboxMessage, Unit
from tests.scheduler.drive import sent
from tests.scheduler.world import small_province, vn

SETTINGS = Settings()
MONDAY = vn(2026, 8, 17, 7, 30)


def _province_with_department(session: Session) -> None:
    """Province P, its Sở Nội vụ (where the coordinator sits), two communes with tasks."""
    world = small_province(session)
    world.unit("SNV", "Sở Nội vụ", "department", "P")
    world.official("Thu", "SNV", role="coordinator")
    world.make_plan()
    created = vn(2026, 7, 1, 9)
    late = world.task(1, "Họp dân lấy ý kiến quy hoạch", due=date(2026, 8, 10))
    world.assign(late, "A", created=created)
    world.assign(late, "B", created=created)
    world.assign(late, "SNV", created=created, role="coordinating")  # not a lead: not counted
    world.assign(world.task(2, "Rà soát hộ nghèo", due=date(2026, 9, 25)), "A", created=created)
    world.commit()


def test_the_header_counts_what_the_lists_count(session: Session) -> None:
    _province_with_department(session)
    province = session.exec(select(Unit).where(Unit.code == "P")).one()
    data = collect(session, province, MONDAY, silence_days=60)
    with use_locale("vi"):
        (text,) = render(data)
    lines = text.splitlines()
    assert lines[1] == "2 nhiệm vụ, 3 lượt giao chủ trì"
    assert lines[2].startswith("0/3 lượt giao chủ trì đã hoàn thành (0%); 2 quá hạn")
    assert "Quá hạn (2)" in text  # the same two overdue lead assignments
    with use_locale("en"):
        (english,) = render(data)
    assert "2 tasks, 3 lead assignments" in english


def test_a_coordinating_assignment_done_this_week_is_not_listed_as_done(
    session: Session,
) -> None:
    """The header counts lead assignments: so must "Done this week" (it listed a helping
    unit's part as done while the header said none of the lead assignments was)."""
    world = small_province(session)
    world.unit("SNV", "Sở Nội vụ", "department", "P")
    world.make_plan()
    created = vn(2026, 7, 1, 9)
    task = world.task(1, "Họp dân lấy ý kiến quy hoạch", due=date(2026, 9, 10))
    world.assign(task, "A", created=created)
    helping = world.assign(task, "SNV", created=created, role="coordinating")
    helping.status, helping.percent = "done", 100
    helping.done_at = helping.last_update_at = vn(2026, 8, 14)
    lead_done = world.assign(world.task(2, "Rà soát hộ nghèo"), "B", created=created)
    lead_done.status, lead_done.percent = "done", 100
    lead_done.done_at = lead_done.last_update_at = vn(2026, 8, 14)
    world.commit()
    province = session.exec(select(Unit).where(Unit.code == "P")).one()
    data = collect(session, province, MONDAY, silence_days=60)
    assert [line.unit for line in data.done] == [world.units["B"].name]
    with use_locale("vi"):
        (text,) = render(data)
    assert "1/2 lượt giao chủ trì đã hoàn thành" in text
    assert "Hoàn thành trong tuần (1)" in text


def test_the_percent_has_a_decimal_comma(session: Session) -> None:
    world = small_province(session)
    world.make_plan()
    created = vn(2026, 7, 1, 9)
    for order in range(1, 9):
        assignment = world.assign(world.task(order, f"Việc {order}"), "A", created=created)
        if order <= 2:
            assignment.status, assignment.percent = "done", 100
            assignment.done_at = assignment.last_update_at = vn(2026, 8, 14)
    # 2 of 8 is 25%; add one more to get a decimal: 2 of 9 = 22,2%
    world.assign(world.task(9, "Việc 9"), "A", created=created)
    world.commit()
    data = collect(session, world.units["A"], MONDAY, silence_days=60)
    with use_locale("vi"):
        assert "(22,2%)" in render(data)[0]
    with use_locale("en"):
        assert "(22.2%)" in render(data)[0]


def test_the_province_coordinator_gets_the_province_digest(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _province_with_department(session)
    run_digests(engine, SETTINGS, FixedClock(MONDAY))
    thu = [m for m in sent(engine) if m.kind == "digest" and m.who == "Thu"]
    assert [m.headline for m in thu] == ["Tổng hợp tuần: Tỉnh Bắc Giang, ngày 17 tháng 8 năm 2026"]
    with Session(engine) as session:
        province = session.exec(select(Unit).where(Unit.code == "P")).one()
        assert sorted(o.name for o in digest_readers(session, province)) == ["Mai", "Thu"]


def test_reminders_and_escalations_show_the_number_to_type(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan()
        task = world.task(7, "Tiếp công dân định kỳ", due=date(2026, 8, 3))
        assignment = world.assign(task, "A", created=vn(2026, 7, 1, 9), officials=("Lan",))
        number = assignment.id
        world.commit()
    for day in range(1, 8):
        sweep(engine, SETTINGS, FixedClock(vn(2026, 8, day, 9)), digests=False)
    with Session(engine) as session:
        texts = [
            m.text
            for m in session.exec(select(OutboxMessage))
            if m.kind in ("reminder", "escalation")
        ]
    assert texts and all(f"#{number} Tiếp công dân" in text for text in texts)
    assert not any("7. Tiếp công dân" in text for text in texts)


def test_silence_names_the_chair_who_answers_for_the_unit(session: Session) -> None:
    world = small_province(session)
    world.unit("C", "Xã Cẩm Lý", "commune", "P")  # no chair registered
    world.make_plan()
    old = vn(2026, 6, 1, 9)
    world.assign(world.task(1, "Tiếp công dân"), "A", created=old)  # nobody assigned: Hùng
    world.assign(world.task(2, "Họp dân"), "C", created=old)
    world.commit()
    data = collect(session, world.units["P"], MONDAY, silence_days=21)
    with use_locale("en"):
        (text,) = render(data)
    assert "- Hùng (Xã An Hà): 1 task" in text
    assert "- Xã Cẩm Lý (no chair registered): 1 task" in text
    assert "(chair)" not in text and "1 tasks" not in text
