"""The channel registry: every channel papi-bot knows, each with its declared capabilities.

Listed explicitly here (no registration by import side effects). The outbox (rate limits,
text limits), the numbered menu (channels without buttons) and the composition root (which
channels to start: those whose secrets are set) read these declarations; no core module
names a platform or knows its limits.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.channels.base import Capabilities
from bot.channels.console import CONSOLE
from bot.channels.kind import ChannelKind
from bot.channels.telegram_kind import TELEGRAM
from bot.channels.zalo import ZALO_OA, zalo_bots
from bot.config import Settings


class UnknownChannel(KeyError):
    """A channel name no declaration has."""


class ChannelRegistry:
    """Channel declarations by name."""

    def __init__(self, kinds: Iterable[ChannelKind]) -> None:
        self._kinds: dict[str, ChannelKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"channel {kind.name!r} is declared twice")
            self._kinds[kind.name] = kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return list(self._kinds)

    def kind(self, name: str) -> ChannelKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownChannel(name) from None

    def capabilities(self, name: str, settings: Settings) -> Capabilities:
        return self.kind(name).capabilities(settings)

    def enabled(self, settings: Settings) -> list[ChannelKind]:
        """The platform channels whose secrets are set and whose adapter exists, in order."""
        return [
            kind
            for kind in self._kinds.values()
            if kind.start is not None and kind.enabled(settings)
        ]

    def disabled_notes(self, settings: Settings) -> list[str]:
        """What to log about configured channels that will not run (a token variable unset)."""
        notes = (kind.why_disabled(settings) for kind in self._kinds.values() if kind.why_disabled)
        return [note for note in notes if note]

    def kinds(self) -> list[ChannelKind]:
        return list(self._kinds.values())

    def declared_but_missing(self, settings: Settings) -> list[ChannelKind]:
        """Channels whose secrets are set but whose adapter is not written yet."""
        return [k for k in self._kinds.values() if k.start is None and k.enabled(settings)]

    def max_text_limit(self, settings: Settings) -> int:
        """The largest text limit of all channels: no channel takes a longer message."""
        return max(kind.capabilities(settings).text_limit for kind in self._kinds.values())


def default_registry(settings: Settings | None = None) -> ChannelRegistry:
    """Every channel papi-bot has: the console, Telegram, Zalo Bot, Zalo OA. With the
    settings, each ``[[zalo.bots]]`` bot is a channel of its own ("zalo:<name>", after the
    default "zalo"): its own sender, webhook, quota count and outbox rows."""
    return ChannelRegistry([CONSOLE, TELEGRAM, *zalo_bots(settings), ZALO_OA])
