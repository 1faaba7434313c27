"""A channel's declaration: what it can carry and how it starts and stops.

Each channel module declares one ``ChannelKind``; ``bot.channels.registry`` lists them
explicitly (no registration by import side effects). ``start`` builds the running channel
from a ``ChannelDeps``: the composition root (``bot.app``) owns everything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from bot.channels.base import Capabilities, Channel
from bot.config import Settings
from handlers.types import Inbound
from kernel.clock import Clock

if TYPE_CHECKING:  # the declarations are read without aiohttp (the hub) or a database
    from sqlalchemy.engine import Engine

    from bot.channels.webhook_hub import WebhookHub

Receiving = Literal["polling", "webhook", "terminal"]
ApplyFn = Callable[[Inbound], Awaitable[object]]


def _local_hub() -> WebhookHub:
    """A hub of its own on a free local port (a channel started alone, as in the tests)."""
    from bot.channels.webhook_hub import WebhookHub

    return WebhookHub("127.0.0.1", 0)


@dataclass(frozen=True, slots=True)
class ChannelDeps:
    """What a channel gets to run: the settings, the clock, where inbounds go, the database
    (the webhook inbox, the OA tokens) and the shared webhook server to add its route to."""

    settings: Settings
    clock: Clock
    apply: ApplyFn
    engine: Engine | None = None
    hub: WebhookHub = field(default_factory=_local_hub)


class RunningChannel(Protocol):
    """A started channel: its sender for the outbox, and its receiving loop."""

    @property
    def name(self) -> str: ...

    @property
    def sender(self) -> Channel: ...

    async def receive(self, stop: asyncio.Event) -> None:
        """Receive (poll, or serve the webhook route) until ``stop`` is set or cancelled."""

    async def close(self) -> None:
        """Release the platform session (HTTP connections, tokens)."""


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """The declaration of one channel.

    ``receiving``: the ways it can receive, the configured one first. ``webhook_route``: the
    path of its webhook, if it has one. ``token_refresh``: its access token expires and is
    refreshed while running (Zalo OA). ``enabled``: whether the secrets it needs are set.
    ``start``: None while only declared (its adapter is not written yet). ``why_disabled``:
    the line to log when a configured channel will not run (a bot's token variable unset).
    ``unit``: the unit (code or name) whose subtree this bot serves, ``label`` and ``link``:
    how officials find it (one of several Zalo bots: ``bot.channels.zalo.bound_bot``).
    """

    name: str
    capabilities: Callable[[Settings], Capabilities]
    receiving: Callable[[Settings], tuple[Receiving, ...]]
    enabled: Callable[[Settings], bool]
    webhook_route: str | None = None
    token_refresh: bool = False
    start: Callable[[ChannelDeps], Awaitable[RunningChannel]] | None = None
    why_disabled: Callable[[Settings], str | None] | None = None
    unit: str | None = None
    label: str = ""
    link: str = ""

    @property
    def family(self) -> str:
        """The platform: "zalo" for the default Zalo bot and every "zalo:<bot>"."""
        return self.name.split(":", 1)[0]
