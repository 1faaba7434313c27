"""Signing in, sessions, CSRF and who may see what, over HTTP (aiohttp's test client)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from kernel.clock import FixedClock
from storage.models import AuditEntry, Official, OutboxMessage
from tests.web.conftest import SECRET, Client, Tree, csrf_of, sign_in


def outbox_for(engine: Engine, official: Official) -> list[OutboxMessage]:
    with Session(engine) as session:
        query = select(OutboxMessage).where(col(OutboxMessage.official_id) == official.id)
        return list(session.exec(query).all())


async def ask_code(client: Client, phone: str) -> Any:
    page = await client.get("/login")
    return await client.post("/login", data={"csrf": csrf_of(await page.text()), "phone": phone})


async def test_the_code_goes_to_the_chat_and_signs_in_once(
    client: Client, engine: Engine, tree: Tree
) -> None:
    response = await ask_code(client, "0901 000 001")  # typed as people type it
    assert response.status == 200
    (message,) = outbox_for(engine, tree.admin)
    assert message.channel == "telegram" and message.kind == "notice"
    code = next(word for word in message.text.split() if word.isdigit() and len(word) == 6)
    form = {"csrf": csrf_of(await response.text()), "phone": tree.admin.phone}
    wrong = await client.post("/login/code", data={**form, "code": "000000"[: 6 - 1] + "x"})
    assert wrong.status == 400 and "hết hạn" in await wrong.text()  # Vietnamese by default
    right = await client.post("/login/code", data={**form, "code": code}, allow_redirects=False)
    assert right.status == 302
    home = await client.get("/")
    assert home.status == 200 and tree.province.name in await home.text()
    with Session(engine) as session:
        actions = session.exec(select(AuditEntry.action)).all()
    assert actions == ["login"]
    # The code is spent: a second browser cannot use it.
    client.session.cookie_jar.clear()
    page = await client.get("/login")
    again = await client.post(
        "/login/code",
        data={"csrf": csrf_of(await page.text()), "phone": tree.admin.phone, "code": code},
    )
    assert again.status == 400


async def test_the_form_does_not_tell_who_may_sign_in(
    client: Client, engine: Engine, tree: Tree
) -> None:
    stranger = await ask_code(client, "0987654321")
    official = await ask_code(client, tree.official.phone)  # a commune official: no console
    assert stranger.status == official.status == 200
    assert outbox_for(engine, tree.official) == []
    bad = await ask_code(client, "12ab")
    assert bad.status == 400 and "số" in await bad.text()


async def test_a_second_press_within_a_minute_sends_no_second_code(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await ask_code(client, tree.admin.phone)
    await ask_code(client, tree.admin.phone)
    assert len(outbox_for(engine, tree.admin)) == 1
    clock.advance(timedelta(seconds=61))
    await ask_code(client, tree.admin.phone)
    assert len(outbox_for(engine, tree.admin)) == 2


async def test_the_language_switch_never_leaves_the_console(client: Client) -> None:
    for referer in ("https://evil.example/x", "//evil.example/x"):
        response = await client.get("/lang/en", headers={"Referer": referer}, allow_redirects=False)
        assert response.headers["Location"] == "/"
    page = str(client.make_url("/officials?x=1"))
    back = await client.get("/lang/en", headers={"Referer": page}, allow_redirects=False)
    assert back.headers["Location"] == "/officials?x=1"


async def test_five_wrong_codes_spend_the_code(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    response = await ask_code(client, tree.admin.phone)
    code = next(
        w for w in outbox_for(engine, tree.admin)[0].text.split() if w.isdigit() and len(w) == 6
    )
    form = {"csrf": csrf_of(await response.text()), "phone": tree.admin.phone}
    for guess in range(5):
        await client.post(
            "/login/code",
            data={**form, "code": f"{guess:06d}" if f"{guess:06d}" != code else "999999x"},
        )
    late = await client.post("/login/code", data={**form, "code": code})
    assert late.status == 400


async def test_closed_pages_send_strangers_to_sign_in(client: Client, tree: Tree) -> None:
    page = await client.get(f"/units/{tree.province.id}", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/login"
    report = await client.get(f"/units/{tree.province.id}/report.docx", allow_redirects=False)
    assert report.status == 302
    login = await client.get("/login")
    posted = await client.post(
        f"/officials/{tree.official.id}", data={"csrf": csrf_of(await login.text())}
    )
    assert posted.status == 403


async def test_a_form_without_the_csrf_token_is_refused(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    form = {
        "name": "Đổi Tên",
        "role": "official",
        "unit_id": str(tree.commune_a.id),
        "active": "on",
    }
    for sent in ({}, {"csrf": "forged"}):
        response = await client.post(f"/officials/{tree.official.id}", data={**form, **sent})
        assert response.status == 403
    with Session(engine) as session:
        official = session.get(Official, tree.official.id)
        assert official is not None and official.name == "Lê Thị Hoa"
    ok = await client.post(
        f"/officials/{tree.official.id}", data={**form, "csrf": token}, allow_redirects=False
    )
    assert ok.status == 302


async def test_an_old_session_is_refused(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.coordinator)
    cookie = next(c for c in client.session.cookie_jar if c.key == "papi_console").value
    client.session.cookie_jar.clear()
    headers = {"Cookie": f"papi_console={cookie}"}  # replayed by hand, past the cookie's expiry
    before = await client.get("/", headers=headers, allow_redirects=False)
    assert before.headers["Location"] == f"/units/{tree.province.id}"
    with time_machine.travel(timedelta(hours=8, minutes=1), tick=False):
        page = await client.get("/", headers=headers, allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/login?expired=1"


async def test_a_deactivated_coordinator_is_signed_out(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.coordinator)
    with Session(engine) as session:
        person = session.get(Official, tree.coordinator.id)
        assert person is not None
        person.active = False
        session.add(person)
        session.commit()
    page = await client.get("/", allow_redirects=False)
    assert page.status == 302


async def test_a_district_coordinator_sees_only_the_district(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.district_coordinator)
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == f"/units/{tree.district_a.id}"
    assert (await client.get(f"/units/{tree.commune_a.id}")).status == 200
    for path in (
        f"/units/{tree.district_b.id}",
        f"/units/{tree.commune_b.id}",
        f"/units/{tree.province.id}",
        f"/units/{tree.district_b.id}/report.docx",
        f"/units/{tree.district_b.id}/table/units.xlsx",
        f"/officials/{tree.official.id}",  # editing is for admins
        "/plans",
    ):
        response = await client.get(path)
        assert response.status == 403, path
    listing = await client.get("/officials")
    text = await listing.text()
    assert tree.official.name in text and tree.coordinator.name not in text


async def test_pages_carry_no_secrets_and_no_phone_numbers(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.admin)
    for path in ("/", "/officials", "/audit", f"/officials/{tree.official.id}"):
        response = await client.get(path)
        text = await response.text()
        assert SECRET not in text and tree.official.phone not in text, path
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    cookie = next(c for c in client.session.cookie_jar if c.key == "papi_console")
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


async def test_english_is_one_click_away(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.admin)
    assert "Bảng điều khiển" in await (await client.get("/")).text()
    await client.get("/lang/en")
    assert "Dashboard" in await (await client.get("/")).text()


async def test_only_coordinators_and_admins_get_codes(engine: Engine, tree: Tree) -> None:
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    assert count == 0


async def test_no_code_is_sent_when_every_chat_of_the_admin_refused_the_bot(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    from storage.models import ChannelIdentity

    with Session(engine) as session:
        for identity in session.exec(
            select(ChannelIdentity).where(ChannelIdentity.official_id == tree.admin.id)
        ):
            identity.unreachable_at = clock.now()
            session.add(identity)
        session.commit()
    response = await ask_code(client, tree.admin.phone)
    assert response.status == 200  # the form still tells nobody who may sign in
    assert outbox_for(engine, tree.admin) == []
