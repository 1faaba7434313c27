"""Channel quotas on the dashboard: this month's Zalo Bot messages against its quota, with
the percentage in the viewer's language (decimal comma in Vietnamese)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy.engine import Engine

from bot.channels.quota import quota_usage
from bot.config import Secrets, Settings
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.web.conftest import Client, Tree, sign_in


def _sent(engine: Engine, clock: FixedClock, count: int, channel: str = "zalo") -> None:
    with session_scope(engine) as session:
        for n in range(count):
            session.add(
                OutboxMessage(
                    channel=channel,
                    chat_id=f"z{n}",
                    text="x",
                    status="sent",
                    sent_at=clock.now() - timedelta(seconds=n),
                )
            )
        # Last month's messages do not count.
        session.add(
            OutboxMessage(
                channel=channel,
                chat_id="old",
                status="sent",
                sent_at=clock.now() - timedelta(days=40),
            )
        )


async def test_the_dashboard_shows_zalo_use_against_its_quota(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree, settings: Settings
) -> None:
    await sign_in(client, engine, clock, tree.coordinator)
    empty = await (await client.get(f"/units/{tree.province.id}")).text()
    assert 'id="quotas"' in empty and "Zalo Bot:" not in empty
    _sent(engine, clock, 2451)
    page = await (await client.get(f"/units/{tree.province.id}")).text()
    assert "Zalo Bot: đã gửi 2451/3000 tin nhắn trong tháng này (81,7%)" in page  # decimal comma
    assert '<li class="warn">' in page  # over the 80 % warning share
    english = await client.get(f"/units/{tree.province.id}", cookies={"papi_lang": "en"})
    assert "81.7%" in await english.text()


def test_a_configured_channel_shows_even_before_its_first_message(
    engine: Engine, clock: FixedClock, settings: Settings
) -> None:
    with session_scope(engine) as session:
        assert quota_usage(session, settings, clock.now()) == []
        configured = settings.model_copy(
            update={"secrets": Secrets(zalo_bot_token=SecretStr("t" * 20))}
        )
        [use] = quota_usage(session, configured, clock.now())
    assert (use.channel, use.sent, use.quota, use.warn) == ("zalo", 0, 3000, False)
