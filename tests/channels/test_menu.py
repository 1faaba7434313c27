"""The numbered menu of channels without buttons: rendering, the menu in the database,
numbers and labels back to payloads, and stale numbers answered with the current menu."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels import menu
from bot.channels.base import OutgoingMessage, SendResult
from bot.channels.registry import default_registry
from bot.config import FloodConfig, Settings
from bot.outbox import OutboxWorker
from handlers.types import Button, Inbound
from kernel.clock import FixedClock
from kernel.i18n import use_locale
from storage.models import ChatMenu, OutboxMessage, ProcessedUpdate

TASK_7 = ((Button("Đang thực hiện", "a:7:progress"), Button("Hoàn thành", "a:7:done")),)
TASK_9 = ((Button("Hoàn thành", "a:9:done"), Button("Vướng mắc", "a:9:blocked")),)
LIST = ((Button("#7 Họp dân", "a:7:view"),), (Button("#9 Niêm yết", "a:9:view"),))


def typed(text: str, at: datetime, key: str = "k1", quoting: str | None = None) -> Inbound:
    return Inbound("zalo", "u1", "chat1", key, at, key, text=text, reply_to_message_id=quoting)


def show(
    engine: Engine, buttons: tuple[tuple[Button, ...], ...], message_id: str, at: datetime
) -> None:
    with Session(engine) as session:
        menu.remember(session, "zalo", "chat1", buttons, message_id, at)
        session.commit()


def choice(engine: Engine, inbound: Inbound) -> menu.Choice:
    with Session(engine) as session:
        return menu.choose(session, inbound)


def test_render_numbers_every_button_in_order() -> None:
    text = menu.render("Nhiệm vụ #7", TASK_7)
    assert text == "Nhiệm vụ #7\n\n1 — Đang thực hiện\n2 — Hoàn thành"
    assert menu.render("Không có nút", ()) == "Không có nút"
    assert menu.menu_room(TASK_7) == len(text) - len("Nhiệm vụ #7")


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("2", "a:7:done"),
        (" 1 ", "a:7:progress"),
        ("Hoàn thành", "a:7:done"),
        ("hoan thanh", "a:7:done"),  # without diacritics
        ("HOA\u0300N THA\u0300NH", "a:7:done"),  # decomposed, upper case
        ("3", None),
        ("0", None),
        ("xong", None),
    ],
)
def test_pick_maps_numbers_and_labels(text: str, payload: str | None) -> None:
    items = [{"label": b.label, "payload": b.payload} for row in TASK_7 for b in row]
    assert menu.pick(items, text) == payload


def test_the_menu_is_kept_in_the_database_per_chat(engine: Engine, clock: FixedClock) -> None:
    show(engine, TASK_7, "m1", clock.now())
    later = clock.now() + timedelta(minutes=1)
    assert choice(engine, typed("2", later)).payload == "a:7:done"
    other_chat = Inbound("zalo", "u2", "chat2", "k2", later, "k2", text="2")
    assert choice(engine, other_chat) == menu.Choice()
    show(engine, (), "m2", later)  # a message without buttons closes the menu
    assert choice(engine, typed("2", later + timedelta(minutes=1))) == menu.Choice()
    with Session(engine) as session:
        (row,) = session.exec(select(ChatMenu)).all()
    assert (row.items, row.message_id, len(row.previous_items)) == ([], "m2", 2)


def test_a_number_typed_as_the_menu_changed_is_stale_not_the_other_task(
    engine: Engine, clock: FixedClock
) -> None:
    """The list was shown, then task 9's menu; "2" arriving a second later may have been
    meant for the list (#9 Niêm yết) or for task 9 (Vướng mắc): it is answered with the
    current menu, never applied to either."""
    show(engine, LIST, "m1", clock.now())
    show(engine, TASK_9, "m2", clock.now() + timedelta(minutes=2))
    soon = clock.now() + timedelta(minutes=2, seconds=1)
    stale = choice(engine, typed("2", soon))
    assert stale.stale and stale.payload is None
    assert stale.current == ((TASK_9[0][0],), (TASK_9[0][1],))
    # A minute later the user has seen the new menu: "2" is its second item.
    assert choice(engine, typed("2", soon + timedelta(minutes=1))).payload == "a:9:blocked"


def test_quoting_the_older_menu_is_stale_and_quoting_the_current_one_is_not(
    engine: Engine, clock: FixedClock
) -> None:
    show(engine, TASK_7, "m1", clock.now())
    show(engine, TASK_9, "m2", clock.now() + timedelta(minutes=1))
    much_later = clock.now() + timedelta(hours=1)
    assert choice(engine, typed("1", much_later, quoting="m1")).stale
    assert choice(engine, typed("1", much_later, quoting="m2")).payload == "a:9:done"


def test_a_choice_that_means_the_same_in_both_menus_is_not_stale(
    engine: Engine, clock: FixedClock
) -> None:
    show(engine, TASK_7, "m1", clock.now())
    show(engine, TASK_7, "m2", clock.now() + timedelta(seconds=1))  # the same task again
    assert choice(engine, typed("2", clock.now() + timedelta(seconds=2))).payload == "a:7:done"


def test_resolve_answers_a_stale_number_with_the_current_menu(
    engine: Engine, clock: FixedClock
) -> None:
    show(engine, LIST, "m1", clock.now())
    show(engine, TASK_9, "m2", clock.now())
    inbound = typed("2", clock.now() + timedelta(seconds=1))
    with use_locale("vi"):
        assert menu.resolve(engine, inbound, clock.now()) is None
        assert menu.resolve(engine, inbound, clock.now()) is None  # redelivered: once only
    with Session(engine) as session:
        (row,) = session.exec(select(OutboxMessage)).all()
        processed = session.exec(select(ProcessedUpdate)).all()
    assert row.text == "Danh sách lựa chọn vừa thay đổi. Đồng chí vui lòng chọn lại:"
    assert row.buttons == [
        [{"label": "Hoàn thành", "payload": "a:9:done"}],
        [{"label": "Vướng mắc", "payload": "a:9:blocked"}],
    ]
    assert (row.chat_id, row.priority > 0) == ("chat1", True)  # a reply: it goes first
    assert [p.update_key for p in processed] == ["k1"]


def test_a_flood_of_stale_numbers_is_answered_only_within_the_flood_guard(
    engine: Engine, clock: FixedClock
) -> None:
    """Each stale number costs a message on the platform (a Zalo OA counts them): past
    ``[flood] messages_per_minute`` they are recorded, not answered."""
    show(engine, LIST, "m1", clock.now())
    show(engine, TASK_9, "m2", clock.now())
    flood = FloodConfig(messages_per_minute=3)
    at = clock.now() + timedelta(seconds=1)
    for n in range(10):
        assert menu.resolve(engine, typed("2", at, key=f"k{n}"), at, flood=flood) is None
    with Session(engine) as session:
        answers = session.exec(select(OutboxMessage)).all()
        processed = session.exec(select(ProcessedUpdate)).all()
    assert len(answers) == 3 and len(processed) == 10  # every one recorded, three answered
    later = at + timedelta(minutes=2)  # a new minute, the menu changed again: answered
    show(engine, LIST, "m3", later)
    show(engine, TASK_9, "m4", later)
    again = later + timedelta(seconds=1)
    assert menu.resolve(engine, typed("2", again, key="k10"), again, flood=flood) is None
    with Session(engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 4


def test_resolve_turns_a_number_into_the_press_of_its_button(
    engine: Engine, clock: FixedClock
) -> None:
    show(engine, TASK_7, "m1", clock.now())
    pressed = menu.resolve(
        engine, typed("hoàn thành", clock.now() + timedelta(minutes=1)), clock.now()
    )
    assert pressed is not None and (pressed.payload, pressed.text) == ("a:7:done", None)
    plain = menu.resolve(engine, typed("7 xong", clock.now() + timedelta(minutes=1)), clock.now())
    assert plain is not None and (plain.payload, plain.text) == (None, "7 xong")


class Recording:
    name = "zalo"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(external_message_id=f"z{len(self.sent)}")


async def test_the_outbox_shows_and_stores_the_menu_on_a_channel_without_buttons(
    engine: Engine, clock: FixedClock
) -> None:
    with Session(engine) as session:
        session.add(
            OutboxMessage(
                channel="zalo",
                chat_id="chat1",
                text="Nhiệm vụ #7",
                buttons=[[{"label": b.label, "payload": b.payload} for b in TASK_7[0]]],
                edit_message_id="41",  # Zalo cannot edit: a new message instead
                next_attempt_at=clock.now(),
            )
        )
        session.commit()
    channel = Recording()
    worker = OutboxWorker(engine, {"zalo": channel}, Settings(), clock)
    try:
        await worker.drain()
    finally:
        worker.close()
    (sent,) = channel.sent
    assert sent.text == "Nhiệm vụ #7\n\n1 — Đang thực hiện\n2 — Hoàn thành"
    assert (sent.buttons, sent.edit_message_id) == ((), None)
    later = clock.now() + timedelta(minutes=1)
    assert choice(engine, typed("1", later)).payload == "a:7:progress"
    assert choice(engine, typed("1", later, quoting="z1")).payload == "a:7:progress"


async def test_a_long_text_is_split_to_the_declared_limit_with_the_menu_last(
    engine: Engine, clock: FixedClock
) -> None:
    lines = [f"Dòng {n}: " + "nội dung " * 10 for n in range(60)]  # ≈ 6,000 characters
    with Session(engine) as session:
        session.add(
            OutboxMessage(
                channel="zalo",
                chat_id="chat1",
                text="\n".join(lines),
                buttons=[[{"label": b.label, "payload": b.payload} for b in TASK_7[0]]],
                next_attempt_at=clock.now(),
            )
        )
        session.commit()
    channel = Recording()
    worker = OutboxWorker(engine, {"zalo": channel}, Settings(), clock)
    try:
        await worker.drain()
    finally:
        worker.close()
    limit = default_registry().capabilities("zalo", Settings()).text_limit
    assert len(channel.sent) >= 3
    assert all(len(message.text) <= limit for message in channel.sent)
    assert channel.sent[-1].text.endswith("1 — Đang thực hiện\n2 — Hoàn thành")
    assert all("1 — " not in message.text for message in channel.sent[:-1])
    body = "\n".join(m.text for m in channel.sent).replace(menu.render("", TASK_7), "")
    assert [line for line in body.split("\n") if line] == lines


def test_a_pressed_number_keeps_every_field_of_the_update(
    engine: Engine, clock: FixedClock
) -> None:
    show(engine, TASK_7, "m1", clock.now())
    inbound = Inbound(
        "zalo",
        "u1",
        "chat1",
        "k9",
        clock.now() + timedelta(minutes=1),
        "k9",
        text="2",
        display_name="Chị Lan",
        reply_to_message_id="m1",
    )
    pressed = menu.resolve(engine, inbound, clock.now())
    assert pressed is not None
    assert (pressed.payload, pressed.text, pressed.display_name) == ("a:7:done", None, "Chị Lan")
    assert (pressed.update_key, pressed.reply_to_message_id) == ("k9", "m1")


def test_a_forwarded_number_is_not_a_menu_choice(engine: Engine, clock: FixedClock) -> None:
    show(engine, TASK_7, "m1", clock.now())
    forwarded = Inbound(
        "zalo",
        "u1",
        "chat1",
        "k9",
        clock.now() + timedelta(minutes=1),
        "k9",
        text="2",
        is_forwarded=True,
    )
    kept = menu.resolve(engine, forwarded, clock.now())
    assert kept is not None and (kept.payload, kept.text) == (None, "2")


class RecordingOA(Recording):
    name = "zalo_oa"


async def test_the_oa_keeps_its_menu_so_a_number_typed_after_the_numbered_fallback_resolves(
    engine: Engine, clock: FixedClock
) -> None:
    """The OA has buttons but numbers a menu that does not fit them: its menus are kept too."""
    with Session(engine) as session:
        session.add(
            OutboxMessage(
                channel="zalo_oa",
                chat_id="chat1",
                text="Nhiệm vụ của đồng chí",
                buttons=[[{"label": b.label, "payload": b.payload}] for (b,) in LIST],
                next_attempt_at=clock.now(),
            )
        )
        session.commit()
    channel = RecordingOA()
    worker = OutboxWorker(engine, {"zalo_oa": channel}, Settings(), clock)
    try:
        await worker.drain()
    finally:
        worker.close()
    (sent,) = channel.sent
    assert sent.buttons  # the OA itself decides between a template and numbered text
    later = clock.now() + timedelta(minutes=1)
    resolved = menu.resolve(
        engine, Inbound("zalo_oa", "u1", "chat1", "k3", later, "k3", text="2"), later
    )
    assert resolved is not None and resolved.payload == "a:9:view"
    caps = default_registry().capabilities("zalo_oa", Settings())
    assert caps.buttons and caps.numbered_menus
