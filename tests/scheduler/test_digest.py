"""Digest content, clean splitting, a missed digest sent once; escalation up the tree."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.scheduler.digest import collect, render
from bot.scheduler.split import MAX_CHARS, split_text
from bot.scheduler.sweep import run_digests, sweep
from kernel.clock import FixedClock
from kernel.i18n import use_locale
from storage.models import Assignment, OutboxMessage, Unit
from tests.scheduler.drive import sent
from tests.scheduler.world import World, small_province, vn

SETTINGS = Settings()
MONDAY = vn(2026, 8, 17, 7, 30)


def commune_a(session: Session) -> World:
    world = small_province(session)
    world.make_plan()
    created = vn(2026, 7, 1, 9)
    done = world.assign(
        world.task(1, "Công khai ngân sách xã", due=date(2026, 8, 20)),
        "A",
        created=created,
        officials=("Lan",),
    )
    done.status, done.percent = "done", 100
    done.done_at = done.last_update_at = vn(2026, 8, 14, 10)
    world.assign(
        world.task(2, "Họp dân lấy ý kiến quy hoạch", due=date(2026, 8, 10)),
        "A",
        created=created,
        officials=("Lan",),
    )
    blocked = world.assign(
        world.task(3, "Sửa chữa nhà văn hóa thôn", due=date(2026, 9, 30)), "A", created=created
    )
    blocked.status, blocked.note = "blocked", "thiếu kinh phí"
    blocked.last_update_at = vn(2026, 8, 12, 9)
    world.assign(
        world.task(4, "Rà soát hộ nghèo", due=date(2026, 8, 25)), "A", created=vn(2026, 8, 10, 9)
    )
    world.session.add(
        OutboxMessage(
            channel="telegram",
            chat_id="c3",
            official_id=world.officials["Lan"].id,
            kind="reminder",
            text="x",
            status="unreachable",
            created_at=vn(2026, 8, 15, 9),
            next_attempt_at=vn(2026, 8, 15, 9),
        )
    )
    world.commit()
    return world


def test_digest_content_vietnamese_and_english(session: Session) -> None:
    world = commune_a(session)
    data = collect(session, world.units["A"], MONDAY, silence_days=21)
    with use_locale("vi"):
        (text,) = render(data)
    assert text.startswith("Tổng hợp tuần: Xã An Hà, ngày 17 tháng 8 năm 2026")
    assert text.splitlines()[1:3] == [
        "4 nhiệm vụ, 4 lượt giao chủ trì",
        "1/4 lượt giao chủ trì đã hoàn thành (25%); 1 quá hạn, 1 vướng mắc, 1 lâu chưa cập nhật.",
    ]
    sections = text.split("\n\n")
    assert sections[1].splitlines() == [
        "Hoàn thành trong tuần (1)",
        "- Xã An Hà: #1 Công khai ngân sách xã",
    ]
    assert sections[2].splitlines() == [
        "Quá hạn (1)",
        "- Xã An Hà: #2 Họp dân lấy ý kiến quy hoạch — quá hạn 7 ngày",
    ]
    assert "- Xã An Hà: #3 Sửa chữa nhà văn hóa thôn — thiếu kinh phí" in sections[3]
    assert sections[4].splitlines() == ["Lâu chưa cập nhật (1)", "- Lan (Xã An Hà): 1 nhiệm vụ"]
    assert sections[5].splitlines() == [
        "Đến hạn trong hai tuần tới (1)",
        "- Xã An Hà: #4 Rà soát hộ nghèo — ngày 25 tháng 8 năm 2026",
    ]
    assert sections[6].splitlines() == [
        "Tin nhắn không gửi được (1)",
        "- Lan: nhắc việc, người nhận đã chặn bot",
    ]
    with use_locale("en"):
        (english,) = render(data)
    assert "Done this week (1)" in english and "Blocked (1)" in english
    assert "- Lan: reminder, the official blocked the bot" in english
    # the province digest covers the commune too
    province = collect(session, world.units["P"], MONDAY, silence_days=21)
    assert [line.task.order for line in province.overdue] == [2]


def test_empty_digest_says_so(session: Session) -> None:
    world = small_province(session)
    world.commit()
    with use_locale("en"):
        (text,) = render(collect(session, world.units["B"], MONDAY, silence_days=21))
    assert text.endswith("Nothing to report this week.")


def test_long_digest_is_split_cleanly(session: Session) -> None:
    world = small_province(session)
    world.make_plan()
    long_text = "Triển khai thực hiện nhiệm vụ cải cách hành chính " * 6
    for order in range(1, 81):
        assignment = world.assign(
            world.task(order, f"{long_text} {order}", due=date(2026, 8, 1)),
            "A",
            created=vn(2026, 7, 1, 9),
        )
        if order % 2:  # half blocked, with a long reason; half overdue
            assignment.status = "blocked"
            assignment.note = "thiếu kinh phí và nhân lực để triển khai " * 5
    world.commit()
    parts = render(collect(session, world.units["A"], MONDAY, silence_days=21))
    assert len(parts) > 1
    assert all(len(part) <= MAX_CHARS for part in parts)
    assert [p.rsplit("\n", 1)[1] for p in parts] == [
        f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)
    ]
    assert "… và 55 mục khác (xem tệp báo cáo)" in "".join(
        parts
    )  # 80 overdue: 25 listed, the rest counted
    assert "… và 15 mục khác (xem tệp báo cáo)" in "".join(parts)  # 40 blocked


def test_split_text_keeps_every_line_in_order() -> None:
    lines = [f"dòng {i} " + "x" * (i % 300) for i in range(400)]
    parts = split_text("\n".join(lines))
    assert all(len(p) <= MAX_CHARS for p in parts)
    rebuilt = [ln for p in parts for ln in p.split("\n")[:-1]]
    assert rebuilt == lines
    assert split_text("ngắn") == ["ngắn"]
    (one_line,) = [p for p in split_text("y " * 5000)][:1]
    assert len(one_line) <= MAX_CHARS


def test_missed_digest_goes_out_once(engine: Engine) -> None:
    with Session(engine) as session:
        commune_a(session)
    run_digests(engine, SETTINGS, FixedClock(MONDAY - timedelta(days=6)))  # last week's
    before = len(sent(engine))
    # down over Monday 17/8 07:30; back on Tuesday 10:00
    for moment in (vn(2026, 8, 18, 10), vn(2026, 8, 18, 10, 1), vn(2026, 8, 19, 9)):
        run_digests(engine, SETTINGS, FixedClock(moment))
    digests = [m for m in sent(engine)[before:] if m.kind == "digest"]
    assert sorted(m.who for m in digests) == ["Bob", "Hùng", "Mai"]
    assert {m.at for m in digests} == {vn(2026, 8, 18, 10)}
    assert [m.headline for m in digests if m.who == "Bob"] == [
        "Weekly digest: Xã Bình Sơn, August 18, 2026"
    ]
    run_digests(engine, SETTINGS, FixedClock(vn(2026, 8, 24, 7, 30)))  # next Monday: new week
    assert len([m for m in sent(engine)[before:] if m.kind == "digest"]) == 6


def test_escalation_goes_to_the_district_where_one_exists(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.unit("D", "Huyện Lục Nam", "district", "P")
        world.unit("C", "Xã Cẩm Lý", "commune", "D")
        world.official("Dung", "D", role="coordinator", locale="en")
        world.official("Hà", "C", role="chair")
        world.make_plan()
        task = world.task(1, "Tiếp công dân định kỳ", due=date(2026, 8, 3))
        world.assign(task, "C", created=vn(2026, 7, 1, 9))
        world.commit()
    for day in range(4, 15):
        sweep(engine, SETTINGS, FixedClock(vn(2026, 8, day, 9)), digests=False)
    escalations = [(m.who, m.at.date(), m.headline) for m in sent(engine) if m.kind == "escalation"]
    assert escalations == [
        ("Hà", date(2026, 8, 6), "Nhiệm vụ quá hạn tại đơn vị (1):"),
        ("Dung", date(2026, 8, 13), "Overdue tasks in units you coordinate (1):"),
    ]
    with Session(engine) as session:
        assert session.exec(select(Unit).where(Unit.code == "C")).one()
        assert session.exec(select(Assignment)).one().status == "not_started"
