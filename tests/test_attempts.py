"""``bot.attempts``: an update failing for a reason of its own is given up after ``LIMIT``
tries; one the database or the network fails is never given up."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import IntegrityError, OperationalError

from bot.attempts import LIMIT, Attempts, is_transient
from bot.dbprocess import DatabaseProcessLost


def test_a_failure_of_its_own_is_given_up_at_the_limit_then_forgotten() -> None:
    attempts = Attempts()
    error = IntegrityError("INSERT …", {}, sqlite3.IntegrityError("too long"))
    verdicts = [attempts.give_up("k", error) for _ in range(LIMIT)]
    assert verdicts == [False] * (LIMIT - 1) + [True]
    assert attempts.failures("k") == 0  # a redelivery starts again from nothing


def test_the_database_or_the_network_away_is_never_given_up() -> None:
    attempts = Attempts()
    for error in (
        DatabaseProcessLost("died"),
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
        ConnectionResetError(),
        TimeoutError(),
    ):
        assert is_transient(error)
        assert not any(attempts.give_up("k", error) for _ in range(3 * LIMIT))
    assert not is_transient(ValueError("bad value"))


def test_an_applied_update_forgets_its_failures() -> None:
    attempts = Attempts()
    for _ in range(LIMIT - 1):
        attempts.give_up("k", ValueError())
    attempts.applied("k")
    assert attempts.failures("k") == 0
    assert not attempts.give_up("k", ValueError())
