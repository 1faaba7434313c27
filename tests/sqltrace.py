"""The SQL an engine runs meanwhile, for tests that pin what a piece of work asks the
database (issue 11: a change that brings back a query fails)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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

    with _listening(engine, note):
        yield seen


@contextmanager
def executions_run(
    engine: Engine, keep: Callable[[str], bool] = lambda _statement: True
) -> Iterator[list[tuple[str, Any]]]:
    """The statements ``engine`` runs inside the block that ``keep`` keeps, each with the
    parameters it was sent with (to ask the database for its query plan, say)."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if keep(statement):
            seen.append((statement, parameters))

    with _listening(engine, note):
        yield seen


@contextmanager
def _listening(engine: Engine, note: Callable[..., None]) -> Iterator[None]:
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", note)
