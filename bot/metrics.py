"""The process's Prometheus metrics and who leads the scheduler, for ``/metrics`` and
``/healthz`` (bot/web/health.py).

The outbox, the inbound path and the sweep call the one-line functions below; nothing else
needs to know prometheus-client. The metrics live in a registry of their own (not the
library's global one), so a test can read exact values and nothing foreign is exported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES_RECEIVED = Counter(
    "papi_bot_updates_received",
    "Inbound updates (messages, button presses) taken from a channel",
    ["channel"],
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "papi_bot_messages_sent",
    "Outbox rows delivered (replies, reminders, digests)",
    ["channel"],
    registry=REGISTRY,
)
THROTTLED = Counter(
    "papi_bot_throttled",
    "Sends refused with 429 Too Many Requests (retried after the platform's wait)",
    ["channel"],
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "papi_bot_send_seconds",
    "Time to deliver one outbox row, pacing included",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "papi_bot_sweep_seconds",
    "Duration of one reminder sweep",
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "papi_bot_outbox_backlog",
    "Pending outbox rows per channel (read from the database at each scrape)",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_PENDING = Gauge(
    "papi_bot_outbox_oldest_pending_seconds",
    "Age of the oldest pending outbox row (0 when none)",
    registry=REGISTRY,
)
SCHEDULER_LEADER = Gauge(
    "papi_bot_scheduler_leader",
    "1 while this process runs the scheduler (sweep and digests)",
    registry=REGISTRY,
)


def update_received(channel: str) -> None:
    UPDATES_RECEIVED.labels(channel=channel).inc()


def message_sent(channel: str, seconds: float) -> None:
    MESSAGES_SENT.labels(channel=channel).inc()
    SEND_SECONDS.labels(channel=channel).observe(seconds)


def throttled(channel: str) -> None:
    THROTTLED.labels(channel=channel).inc()


@contextmanager
def timed_sweep() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        SWEEP_SECONDS.observe(time.perf_counter() - started)


@dataclass
class Leadership:
    """Who runs the scheduler, as this process knows it: itself (it started the scheduler
    or holds the advisory lock) or nobody it knows of."""

    leader: str | None = None

    def became_leader(self, identity: str) -> None:
        self.leader = identity
        SCHEDULER_LEADER.set(1)

    def stepped_down(self) -> None:
        self.leader = None
        SCHEDULER_LEADER.set(0)


LEADERSHIP = Leadership()
