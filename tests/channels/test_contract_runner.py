"""The contract runner itself: what it refuses, so a channel's table cannot quietly skip it."""

from __future__ import annotations

import socket

import pytest

from bot.channels.base import OutgoingMessage
from bot.channels.registry import UnknownChannel, default_registry
from tests.channels.contract import (
    IncomingCase,
    OutgoingCase,
    incoming_params,
    outgoing_params,
    unique_labels,
)
from tests.netguard import NetworkGuard


def test_repeated_labels_are_refused() -> None:
    twice = [IncomingCase("a text", {}), IncomingCase("a photo", {}), IncomingCase("a text", {})]
    with pytest.raises(ValueError, match="a text"):
        incoming_params(("webhook",), twice)
    message = OutgoingMessage(chat_id="1", text="x")
    with pytest.raises(ValueError, match="plain"):
        outgoing_params([OutgoingCase("plain", message), OutgoingCase("plain", message)])
    unique_labels(["one", "two"])  # distinct labels pass


def test_every_case_runs_in_every_receiving_mode_unless_it_names_its_own() -> None:
    cases = [IncomingCase("text", {}), IncomingCase("bad secret", {}, modes=("webhook",))]
    ids = [param.id for param in incoming_params(("webhook", "polling"), cases)]
    assert ids == ["text [webhook]", "text [polling]", "bad secret [webhook]"]
    with pytest.raises(ValueError, match="polling"):
        incoming_params(("terminal",), [IncomingCase("x", {}, modes=("polling",))])


def test_every_test_runs_under_the_network_guard(network_guard: NetworkGuard) -> None:
    """tests/conftest.py installs the guard for every test (this one asks for it by name only
    to look at it): a lookup beyond the loopback is refused and recorded."""
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("api.telegram.org", 443)
    assert network_guard.violations == ["lookup api.telegram.org"]
    network_guard.violations.clear()  # recorded as it should be; the test itself passes
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(ConnectionRefusedError),
    ):
        sock.connect(("203.0.113.7", 443))
    assert network_guard.violations == ["connect 203.0.113.7"]
    network_guard.violations.clear()


def test_a_request_for_an_unknown_channel_is_refused() -> None:
    with pytest.raises(UnknownChannel):
        default_registry().kind("whatsapp")
