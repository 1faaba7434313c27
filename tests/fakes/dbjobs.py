"""Objects the database-process tests send jobs to (``bot.dbprocess``): the process imports
this module to rebuild them."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.dbprocess import Recipe
from storage import bind
from storage.bind import Bind


class Tally:
    """Counts its calls where it runs; ``recipe`` carries the start."""

    def __init__(self, engine: Bind | None, start: int) -> None:
        self.engine = engine
        self.start = start
        self.calls = 0

    def recipe(self) -> Recipe:
        return Recipe(rebuild_tally, (self.start,))

    def count(self) -> tuple[int, int]:
        """(this copy's calls so far, the process id)."""
        self.calls += 1
        return self.start + self.calls, os.getpid()

    def write(self, value: str) -> int:
        """A row in the engine's database (a table of its own), committed: the row count."""
        assert self.engine is not None
        with bind.begin(self.engine) as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS tally (value TEXT)"))
            connection.execute(text("INSERT INTO tally (value) VALUES (:v)"), {"v": value})
            return int(connection.execute(text("SELECT count(*) FROM tally")).scalar_one())

    def bound_to(self) -> tuple[str, int]:
        """What this copy was built on (the class's name) and that object's identity."""
        return type(self.engine).__name__, id(self.engine)

    def lose_connection(self) -> None:
        """Close the driver's connection under the held one, as a disk error or a killed
        server would end it: SQLAlchemy does not know until it next uses it."""
        assert isinstance(self.engine, Connection)  # the process's held connection
        driver = self.engine.connection.dbapi_connection
        assert driver is not None
        driver.close()

    def fail(self, message: str) -> None:
        raise LookupError(message)

    def unpicklable(self) -> Any:
        return lambda: None  # a result that cannot cross the socket

    def imported(self, package: str) -> bool:
        """Whether the process this copy lives in has imported ``package``."""
        return package in sys.modules

    def sleep(self, seconds: float, mark: str | None = None) -> float:
        time.sleep(seconds)
        if mark is not None:
            Path(mark).write_text("ran")
        return seconds


def rebuild_tally(engine: Bind, start: int) -> Tally:
    return Tally(engine, start)
