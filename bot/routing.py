"""Which of an official's chats a message goes to: exactly ONE.

An official may be linked on several channels (Telegram, a Zalo bot, the Zalo OA). A message
addressed to them (a reminder, an escalation, a digest, a notice) goes to:

1. the channel they chose with /kenh (``Official.preferred_channel``), else the account they
   last wrote from (``ChannelIdentity.last_inbound_at``), else their oldest link;
2. if that one is unreachable (``unreachable_at``: blocked, unfollowed, −230), the next linked
   channel, oldest link first;
3. a channel with a free window (``Capabilities.free_window``: the Zalo OA sends for free only
   48 h after the user last wrote, then paid, then refused) is passed over when the user is
   outside it and another reachable channel is in reach; with no other, it is still tried.

No platform is named here: the windows come from the channels' declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from storage.identities import linked_identities, preferred_channels
from storage.models import ChannelIdentity

if TYPE_CHECKING:
    from bot.channels.registry import ChannelRegistry
    from bot.config import Settings


@dataclass(frozen=True, slots=True)
class Routing:
    """The routing rule; ``free_windows``: channel name → how long after the user last wrote
    a message to them is free (channels without an entry have no window)."""

    free_windows: Mapping[str, timedelta] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, registry: ChannelRegistry | None = None) -> Routing:
        """The windows every declared channel has under ``settings``."""
        if registry is None:
            # The registry imports the platform libraries: only when routing is first built.
            from bot.channels.registry import default_registry

            registry = default_registry(settings)
        windows: dict[str, timedelta] = {}
        for name in registry.names():
            window = registry.capabilities(name, settings).free_window
            if window is not None:
                windows[name] = window
        return cls(free_windows=windows)

    def in_free_window(self, identity: ChannelIdentity, now: datetime) -> bool:
        window = self.free_windows.get(identity.channel)
        if window is None:
            return True
        last = identity.last_inbound_at
        return last is not None and now - last < window

    def pick(
        self, identities: Sequence[ChannelIdentity], preferred: str | None, now: datetime
    ) -> ChannelIdentity | None:
        """The one account of an official to write to; ``identities``: all of theirs,
        reachable or not, oldest link first. None when none is reachable."""
        reachable = [i for i in identities if i.unreachable_at is None]
        if not reachable:
            return None
        first = _first_choice(identities, preferred)
        ordered = [first] if first is not None and first.unreachable_at is None else []
        ordered += [i for i in reachable if i is not first]
        for identity in ordered:
            if self.in_free_window(identity, now):
                return identity
        return ordered[0]  # outside every window: the OA may still send (paid) or say −230

    def recipients(
        self, session: Session, official_ids: Iterable[int], now: datetime
    ) -> dict[int, ChannelIdentity]:
        """The account each official is written to (officials with none reachable are left
        out: no row, the digest shows them as unreachable)."""
        wanted = set(official_ids)
        identities = linked_identities(session, wanted)
        chosen = preferred_channels(session, wanted)
        picked: dict[int, ChannelIdentity] = {}
        for official_id, found in identities.items():
            identity = self.pick(found, chosen.get(official_id), now)
            if identity is not None:
                picked[official_id] = identity
        return picked


def _latest(identities: Sequence[ChannelIdentity]) -> ChannelIdentity | None:
    """The account written from last; None if none has written since it was recorded."""
    written = [i for i in identities if i.last_inbound_at is not None]
    if not written:
        return None
    return max(written, key=lambda i: i.last_inbound_at or datetime.min)


def _first_choice(
    identities: Sequence[ChannelIdentity], preferred: str | None
) -> ChannelIdentity | None:
    """The chosen channel's account (its reachable one written from last), else the account
    written from last; None: nobody wrote yet, the oldest link goes first."""
    if preferred is not None:
        on_channel = [i for i in identities if i.channel == preferred]
        live = [i for i in on_channel if i.unreachable_at is None]
        if on_channel:
            return _latest(live or on_channel) or (live or on_channel)[0]
    return _latest(identities)
