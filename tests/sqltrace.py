"""The SQL an engine runs meanwhile, for tests that pin what a piece of work asks the
database (issue 11: a change that brings back a query fails)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements_run(
    engine: Engine, keep: Callable[[str], bool] = lambda _statement: True
) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block that ``keep`` keeps, as sent."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if keep(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
