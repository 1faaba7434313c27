"""Issue 16: ``/healthz`` (200/503 JSON) and ``/metrics`` (Prometheus text), open to
monitoring without a sign-in; the outbox and the sweep count through ``bot.metrics``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot import metrics
from bot.config import Settings
from bot.scheduler.jobs import build_scheduler
from bot.web import build_app
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.test_outbox import ScriptedChannel, add_rows, worker_for
from tests.web.conftest import SECRET, Client

__all__ = ["worker_for"]  # the fixture, imported for this module's tests


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(autouse=True)
def no_leader() -> Iterator[None]:
    metrics.LEADERSHIP.stepped_down()
    yield
    metrics.LEADERSHIP.stepped_down()


def _pending(engine: Engine, clock: FixedClock) -> None:
    with session_scope(engine) as session:
        rows = [
            {"channel": "telegram", "chat_id": "1", "created_at": clock.now()},
            {
                "channel": "telegram",
                "chat_id": "2",
                "created_at": clock.now() - timedelta(minutes=10),
            },
            {"channel": "zalo_bot", "chat_id": "9", "created_at": clock.now()},
            {"channel": "telegram", "chat_id": "3", "status": "sent"},  # not backlog
        ]
        session.add_all(OutboxMessage.model_validate(values) for values in rows)


async def test_healthz_reports_backlog_and_wants_a_scheduler_leader(
    client: Client, engine: Engine, clock: FixedClock
) -> None:
    _pending(engine, clock)
    response = await client.get("/healthz")  # no sign-in needed
    assert response.status == 503
    body = await response.json()
    assert body["database"] == "ok" and body["scheduler_leader"] is None
    assert body["outbox"] == {
        "backlog": {"telegram": 2, "zalo_bot": 1},
        "pending": 3,
        "oldest_pending_seconds": 600.0,
    }
    metrics.LEADERSHIP.became_leader("pid 1")
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["scheduler_leader"] == "pid 1"


async def test_healthz_is_503_when_the_database_is_unreachable(
    settings: Settings, clock: FixedClock
) -> None:
    metrics.LEADERSHIP.became_leader("pid 1")
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = build_app(unreachable, settings, clock, secret=SECRET)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["database"] == "unreachable" and body["status"] == "unavailable"
    unreachable.dispose()


async def test_metrics_exports_counters_and_the_backlog(
    client: Client, engine: Engine, clock: FixedClock
) -> None:
    _pending(engine, clock)
    before = sample("papi_bot_updates_received_total", channel="telegram")
    metrics.update_received("telegram")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert f'papi_bot_updates_received_total{{channel="telegram"}} {before + 1}' in text
    assert 'papi_bot_outbox_backlog{channel="telegram"} 2.0' in text
    assert 'papi_bot_outbox_backlog{channel="zalo_bot"} 1.0' in text
    assert "papi_bot_outbox_oldest_pending_seconds 600.0" in text
    for name in ("papi_bot_messages_sent", "papi_bot_throttled", "papi_bot_send_seconds"):
        assert f"# TYPE {name}" in text
    assert "# TYPE papi_bot_sweep_seconds histogram" in text


async def test_the_outbox_counts_sends_and_429s(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], object]
) -> None:
    from bot.channels.base import Throttled

    sent = sample("papi_bot_messages_sent_total", channel="telegram")
    limited = sample("papi_bot_throttled_total", channel="telegram")
    timed = sample("papi_bot_send_seconds_count", channel="telegram")
    channel = ScriptedChannel()
    channel.script["1"] = [Throttled(1)]
    add_rows(engine, clock, [("1", "a"), ("2", "b")])
    worker = worker_for(channel)
    await worker.drain()  # type: ignore[attr-defined]
    assert sample("papi_bot_throttled_total", channel="telegram") == limited + 1
    assert sample("papi_bot_messages_sent_total", channel="telegram") == sent + 1
    assert sample("papi_bot_send_seconds_count", channel="telegram") == timed + 1


async def test_a_sweep_is_timed(engine: Engine, clock: FixedClock) -> None:
    before = sample("papi_bot_sweep_seconds_count")
    scheduler = build_scheduler(engine, Settings(), clock, lambda: None)
    job = scheduler.get_job("sweep")
    assert job is not None
    await job.func()
    assert sample("papi_bot_sweep_seconds_count") == before + 1
