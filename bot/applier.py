"""The database side of one inbound update: a stale menu number resolved, the update applied
(``bot.pipeline.apply_inbound``), and what the event loop needs to hear back.

``Applier`` keeps what applying needs besides the database as plain values: the settings
and what it reads of the channels' declarations (``ChannelFacts``). So the same applier runs
in a database thread of ``papi-bot run`` or, rebuilt from its ``recipe()``, in the database
process (``bot.dbprocess``), where no channel adapter is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.channels import menu
from bot.config import Settings
from bot.dbprocess import Recipe
from bot.pipeline import apply_inbound, conversation_settings
from bot.routing import Routing
from handlers.context import ConversationSettings
from handlers.types import Inbound
from storage.bind import Bind
from storage.queue import ClaimTerms, QueuedRow

if TYPE_CHECKING:  # the registry imports every platform library: not in the database process
    from bot.channels.registry import ChannelRegistry


@dataclass(frozen=True, slots=True)
class Applied:
    """``ids``: the new outbox rows (None: the update was already applied); ``handed``: those
    first pending in their chats, which the outbox worker may send as they are (claimed for
    it, where it gave its terms); ``report``: a report job was recorded (the report worker is
    woken)."""

    ids: list[int] | None
    handed: list[QueuedRow] = field(default_factory=list)
    report: bool = False


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What applying reads of the channels' declarations, read once where the registry is
    (the database process never imports a platform library: aiogram alone adds ~35 MB)."""

    menu_channels: frozenset[str]  # a menu number ("2") stands for a button there
    text_limits: Mapping[str, int]  # for the conversation's paging
    routing: Routing  # where messages to officials go
    conversation: ConversationSettings  # the Zalo bots' seats among them

    @classmethod
    def of(cls, settings: Settings, registry: ChannelRegistry) -> ChannelFacts:
        caps = {name: registry.capabilities(name, settings) for name in registry.names()}
        return cls(
            menu_channels=frozenset(name for name, cap in caps.items() if cap.numbered_menus),
            text_limits={name: cap.text_limit for name, cap in caps.items()},
            routing=Routing.from_settings(settings),  # every declared channel, run here or not
            conversation=conversation_settings(settings),
        )


class Applier:
    def __init__(self, engine: Bind, settings: Settings, facts: ChannelFacts) -> None:
        self.engine = engine
        self.settings = settings
        self.facts = facts

    def recipe(self) -> Recipe:
        return Recipe(rebuild_applier, (self.settings, self.facts))

    def apply(self, inbound: Inbound, now: datetime, claim: ClaimTerms | None = None) -> Applied:
        """Apply ``inbound`` at ``now`` (the event loop's clock, so both sides agree);
        ``claim``: the running outbox worker's terms, to claim the answer for it."""
        facts = self.facts
        if inbound.channel in facts.menu_channels:
            resolved = menu.resolve(self.engine, inbound, now, flood=self.settings.flood)
            if resolved is None:  # a stale choice, answered with the current menu
                return Applied([])
            inbound = resolved
        handed: list[QueuedRow] = []
        reported: list[bool] = []
        ids = apply_inbound(
            self.engine,
            inbound,
            self.settings,
            now,
            text_limit=facts.text_limits.get(inbound.channel),
            on_report=lambda: reported.append(True),
            routing=facts.routing,
            handover=handed.extend,
            conversation=facts.conversation,
            claim=claim,
        )
        return Applied(ids, handed, bool(reported))


def rebuild_applier(engine: Bind, settings: Settings, facts: ChannelFacts) -> Applier:
    """The applier in the database process, on the connection it holds."""
    return Applier(engine, settings, facts)
