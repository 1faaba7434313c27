"""How often an inbound update may fail to apply before it is given up.

An update that fails because the database or the network is away (a locked or lost
database, a dropped connection, a timeout) is retried for as long as it takes: nothing can
be applied meanwhile, and giving it up would lose an official's reply. One that fails for
any other reason — something in the update itself that the code cannot store — fails the
same way every time. Retried for ever, it held back every later update: on Telegram the
``getUpdates`` offset stayed at it, and once a hundred more had arrived behind it nothing new
was ever fetched. ``Attempts`` gives such an update ``limit`` tries; then the receiver
records it as processed, logs it at ERROR (its key's digest and the error's type, never its
content) and goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.dbthreads import DatabaseLost

# Errors that pass by themselves: the database or the network, not the update. OSError
# covers the network (aiohttp's connection errors are OSErrors) and a full disk.
TRANSIENT: tuple[type[BaseException], ...] = (
    DatabaseLost,
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,  # no connection from the pool in time
    OSError,
    TimeoutError,
)
LIMIT = 5


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT)


@dataclass
class Attempts:
    """The failures of each update key that failed for a reason of its own (in memory: a
    restart gives it ``limit`` more tries, still a bounded number)."""

    limit: int = LIMIT
    _failures: dict[str, int] = field(default_factory=dict)

    def give_up(self, key: str, error: BaseException) -> bool:
        """Count a failure of ``key``; True when it should be given up (then forgotten)."""
        if is_transient(error):
            return False
        failures = self._failures.get(key, 0) + 1
        if failures >= self.limit:
            self._failures.pop(key, None)
            return True
        self._failures[key] = failures
        return False

    def applied(self, key: str) -> None:
        """``key`` went through: its failures are forgotten."""
        if self._failures:
            self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)
