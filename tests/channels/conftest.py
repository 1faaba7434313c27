"""Fixtures of the channel contract tests."""

from __future__ import annotations

from tests.channels.contract import network_guard

__all__ = ["network_guard"]
