"""The official a message comes from, as plain values.

Every inbound message reads who wrote it (``storage.identities.find_sender``); as ORM
objects the sender and their account cost about three times the statement, and nothing in
the conversation changes them in place: a change (the language, the chosen channel) goes
through its writer in ``storage.officials`` / ``storage.identities``, which takes the id.
Code that only reads an official takes ``OfficialFacts``: a ``Person`` or an ``Official``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storage.models import Official


class OfficialFacts(Protocol):
    """What reading code asks of an official (``Person`` and ``Official`` both have it)."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def unit_id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def preferred_channel(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Person:
    """An official as read for one message."""

    id: int
    name: str
    unit_id: int
    role: str
    locale: str
    active: bool
    preferred_channel: str | None = None

    @classmethod
    def of(cls, official: Official) -> Person:
        """The values of a loaded (flushed) ``Official``."""
        assert official.id is not None
        return cls(
            id=official.id,
            name=official.name,
            unit_id=official.unit_id,
            role=official.role,
            locale=official.locale,
            active=official.active,
            preferred_channel=official.preferred_channel,
        )
