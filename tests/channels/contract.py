"""The channel contract runner (after nyaruka/courier's handlertest): each channel supplies only
tables of ``IncomingCase`` / ``OutgoingCase`` and a small harness; one runner checks them all.

Besides what a case states, the runner checks what nobody remembers to write:
- every mocked platform response was used, and no request came that was not mocked;
- no connection leaves 127.0.0.1 (``tests/netguard.py``, installed for EVERY test by
  ``tests/conftest.py``);
- the channel's secret (the bot token) never appears in a captured log line or error text;
- the labels of a table are unique (``incoming_params`` / ``outgoing_params``);
- every incoming case runs in each way the channel receives (``ChannelHarness.modes``:
  webhook, polling, terminal), unless the case names the modes it is about.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiohttp import web

from bot.channels.base import OutgoingMessage, SendError, SendResult, Throttled
from handlers.types import Inbound
from tests.fakes.fake_telegram import read_params
from tests.netguard import NetworkGuard

__all__ = [
    "ChannelHarness",
    "IncomingCase",
    "MockPlatform",
    "MockResponse",
    "NetworkGuard",
    "OutgoingCase",
    "incoming_params",
    "outgoing_params",
    "run_incoming",
    "run_outgoing",
    "unique_labels",
]


@dataclass(frozen=True)
class MockResponse:
    """What the platform answers to the next call of ``method``."""

    method: str
    body: Mapping[str, Any]
    status: int = 200


@dataclass(frozen=True)
class IncomingCase:
    label: str
    body: Any  # what the platform delivers: a webhook's JSON, a typed console line
    status: int = 200  # the HTTP answer the channel must give (200 where there is no HTTP)
    headers: Mapping[str, str] = field(default_factory=dict)
    expect: Mapping[str, Any] | None = None  # Inbound fields; None: nothing reaches the bot
    responses: tuple[MockResponse, ...] = ()
    requests: tuple[Mapping[str, Any], ...] = ()  # calls the channel must make meanwhile
    modes: tuple[str, ...] | None = None  # None: every way the channel receives


@dataclass(frozen=True)
class OutgoingCase:
    label: str
    message: OutgoingMessage
    responses: tuple[MockResponse, ...] = ()
    requests: tuple[Mapping[str, Any], ...] = ()  # each a subset of the recorded request
    external_id: str | None = None
    error: type[SendError] | None = None
    retry_after: float | None = None
    files: Mapping[str, bytes] = field(default_factory=dict)  # name → content, in a tmp dir
    # (a message's file_path is a name relative to that dir)


class MockPlatform:
    """An HTTP server on 127.0.0.1 that answers only what the case mocked, in order."""

    def __init__(self, responses: Sequence[MockResponse]) -> None:
        self.queue = list(responses)
        self.requests: list[dict[str, Any]] = []
        self.unexpected: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.on_request: Callable[[str], None] | None = None  # called as each request comes

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.path.rstrip("/").rsplit("/", 1)[-1]
        params = await read_params(request)
        self.requests.append({"method": method, "path": request.path, **params})
        if self.on_request is not None:
            self.on_request(method)
        for index, response in enumerate(self.queue):
            if response.method == method:
                self.queue.pop(index)
                return web.json_response(dict(response.body), status=response.status)
        self.unexpected.append(method)
        return web.json_response(
            {"ok": False, "error_code": 500, "description": "unmocked"}, status=500
        )


class ChannelHarness(Protocol):
    """What a channel's table module provides to the runner."""

    name: str
    secret: str  # must never be logged ("" when the channel has none)
    modes: tuple[str, ...]  # how it receives: "webhook", "polling", "terminal"

    async def receive(
        self, case: IncomingCase, platform: MockPlatform, mode: str
    ) -> tuple[int, list[Inbound]]:
        """Deliver ``case.body`` as ``mode`` does; the HTTP status answered (200 where there
        is no HTTP answer) and the Inbounds produced."""
        ...

    async def send(self, message: OutgoingMessage, platform: MockPlatform) -> SendResult: ...

    def requests(self, platform: MockPlatform) -> list[dict[str, Any]]:
        """What the channel emitted (HTTP calls, printed output), oldest first."""
        ...


def _subset(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    for key, value in expected.items():
        if key not in actual:
            return False
        if isinstance(value, Mapping) and isinstance(actual[key], Mapping):
            if not _subset(value, actual[key]):
                return False
        elif str(actual[key]) != str(value) and actual[key] != value:
            return False
    return True


def _check_requests(expected: Sequence[Mapping[str, Any]], actual: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected), f"expected {len(expected)} requests, got {actual}"
    for want, got in zip(expected, actual, strict=True):
        assert _subset(want, got), f"request differs:\n want {want}\n got  {got}"


def _check_secret(harness: ChannelHarness, caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    if not harness.secret:
        return
    assert harness.secret not in caplog.text, "the channel's secret appeared in a log line"
    for text in texts:
        assert harness.secret not in text, "the channel's secret appeared in an error text"


def unique_labels(labels: Iterable[str]) -> None:
    """Refuse a table with two cases of one label (pytest would run both under one id)."""
    repeated = sorted(label for label, count in Counter(labels).items() if count > 1)
    if repeated:
        raise ValueError(f"case labels must be unique; repeated: {repeated}")


def incoming_params(modes: Sequence[str], cases: Sequence[IncomingCase]) -> list[Any]:
    """pytest params of (case, mode): each case in each receiving mode it applies to."""
    unique_labels(case.label for case in cases)
    params: list[Any] = []
    for case in cases:
        wanted = case.modes or tuple(modes)
        unknown = set(wanted) - set(modes)
        if unknown:
            raise ValueError(f"{case.label}: the channel does not receive by {sorted(unknown)}")
        params.extend(pytest.param(case, mode, id=f"{case.label} [{mode}]") for mode in wanted)
    return params


def outgoing_params(cases: Sequence[OutgoingCase]) -> list[Any]:
    unique_labels(case.label for case in cases)
    return [pytest.param(case, id=case.label) for case in cases]


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting for the channel")


async def run_incoming(
    harness: ChannelHarness,
    case: IncomingCase,
    caplog: pytest.LogCaptureFixture,
    mode: str | None = None,
) -> None:
    caplog.set_level(logging.DEBUG)
    mode = mode or harness.modes[0]
    platform = MockPlatform(case.responses)
    await platform.start()
    try:
        status, inbounds = await harness.receive(case, platform, mode)
    finally:
        await platform.stop()
    assert status == case.status, f"{case.label}: answered {status}, expected {case.status}"
    if case.expect is None:
        assert inbounds == [], f"{case.label}: nothing should reach the bot, got {inbounds}"
    else:
        assert len(inbounds) == 1, f"{case.label}: expected one Inbound, got {inbounds}"
        (inbound,) = inbounds
        assert inbound.channel == harness.name
        for key, value in case.expect.items():
            assert getattr(inbound, key) == value, f"{case.label}: {key}={getattr(inbound, key)!r}"
    assert not platform.unexpected, f"{case.label}: unmocked calls {platform.unexpected}"
    assert not platform.queue, f"{case.label}: mocked responses never used: {platform.queue}"
    _check_requests(case.requests, harness.requests(platform))
    _check_secret(harness, caplog)


async def run_outgoing(
    harness: ChannelHarness, case: OutgoingCase, caplog: pytest.LogCaptureFixture, workdir: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    message = case.message
    for name, content in case.files.items():
        (workdir / name).write_bytes(content)
    if message.file_path is not None:
        message = replace(message, file_path=str(workdir / message.file_path))
    platform = MockPlatform(case.responses)
    await platform.start()
    error_text = ""
    try:
        if case.error is None:
            result = await harness.send(message, platform)
            assert result.external_message_id == case.external_id, case.label
        else:
            with pytest.raises(case.error) as caught:
                await harness.send(message, platform)
            error_text = str(caught.value)
            if case.retry_after is not None:
                assert isinstance(caught.value, Throttled)
                assert caught.value.retry_after == case.retry_after
    finally:
        await platform.stop()
    assert not platform.unexpected, f"{case.label}: unmocked calls {platform.unexpected}"
    assert not platform.queue, f"{case.label}: mocked responses never used: {platform.queue}"
    _check_requests(case.requests, harness.requests(platform))
    _check_secret(harness, caplog, error_text)
