"""Statements compiled once and, on SQLite, run straight on the connection's DBAPI cursor.

``Connection.execute`` of a statement built once costs 12–14 µs on this machine where the
``sqlite3`` cursor's own work is 3.5–4 µs. The rest is per call: the compiled cache's key,
hashed again at every execution (for a roll-up's 20 KB grouped statement about 0.4 ms), the
execution context, the result object, the row processors. A status reply runs about ten such
statements and a province's roll-up costs about a millisecond at its floor, so both show it
(docs/performance.md, "eighth pass").

``Prepared(statement)`` compiles the statement once per dialect (and, for an INSERT or an
UPDATE whose columns come from the parameters, once per set of parameter names) and keeps
what each execution needs: the SQL text, each placeholder's parameter with its bind
processor (UTC datetimes, JSON, dates become what SQLAlchemy would bind) and each result
column's processor. On SQLite it runs that on the DBAPI cursor of the session's connection,
inside the same transaction. A DBAPI error becomes the SQLAlchemy error it would have been
(``IntegrityError``, ``OperationalError``), so callers catch what they always caught.

It takes SQLAlchemy's own path, with the same statement, whenever that path does more than
run the cursor: on other databases (PostgreSQL: a lost connection is noticed and the pool
invalidated), when anything listens to the engine's cursor events (the tests that count
statements, a tracer), and for statements whose execution SQLAlchemy must complete
(expanding ``IN``, Python-side column defaults, escaped parameter names).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DBAPIError,
    InvalidRequestError,
    MultipleResultsFound,
    NoResultFound,
    StatementError,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Bind:
    key: str
    name: str
    default: Any  # _REQUIRED, or the value the statement binds itself
    process: Processor | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one execution on the cursor needs; ``sql`` is None where SQLAlchemy's own path
    must run the statement."""

    sql: str | None
    binds: tuple[_Bind, ...] = ()
    row: Any = None  # a named tuple of the result columns, or None (no result rows)
    results: tuple[tuple[int, Processor], ...] = ()
    # Every placeholder's value, by its key, when the parameters give them all (most
    # statements: the slow path also finds constants and names); then each processor's.
    take: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None
    processors: tuple[tuple[int, Processor], ...] = ()
    # ``binds`` holds each parameter once; where the text repeats one (a roll-up's moments:
    # 140 placeholders, 14 parameters), this spreads their values over the placeholders.
    spread: Callable[[Sequence[Any]], Sequence[Any]] | None = None


class Prepared:
    """A Core statement run on the connection's cursor where SQLAlchemy's path adds nothing.

    ``keyed``: the statement's columns come from the parameters' names (``insert(table)``
    with no values), so it is compiled once per set of names. ``row``: a named tuple class
    whose fields are the result columns in order; the rows are built as it, not as a named
    tuple of their own that the caller would copy (a roll-up reads 100+ children)."""

    __slots__ = ("_plans", "keyed", "row", "statement")

    def __init__(self, statement: Any, *, keyed: bool = False, row: Any = None) -> None:
        if row is not None and len(row._fields) != len(statement.selected_columns):
            # Here, not at the first execution: on every database, not only on the cursor's.
            raise ValueError(
                f"{row.__name__} has {len(row._fields)} fields, "
                f"not {len(statement.selected_columns)}"
            )
        self.statement = statement
        self.keyed = keyed
        self.row = row
        self._plans: dict[tuple[str, tuple[str, ...] | None], _Plan] = {}

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The result rows (attributes by column label), as ``execute(...).all()``."""
        found = self._execute(connection, params or {})
        return found if isinstance(found, list) else []

    def run(self, connection: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Execute a statement that returns no rows; its row count."""
        found = self._execute(connection, params or {})
        return found if isinstance(found, int) else len(found)

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute a statement that returns no rows once per mapping (an executemany)."""
        if not rows:
            return
        plan = self._plan_for(connection, rows[0])
        if plan.sql is None or _listened(connection) or plan.row is not None:
            connection.execute(self.statement, [dict(row) for row in rows])
            return
        values = [_values(plan, row) for row in rows]
        driver = connection.connection.driver_connection
        assert driver is not None
        try:
            driver.executemany(plan.sql, values)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, plan.sql, values, error) from error

    def first(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        found = self.rows(connection, params)
        return found[0] if found else None

    def one(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        found = self.rows(connection, params)
        if not found:
            raise NoResultFound("No row was found when one was required")
        if len(found) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return found[0]

    def scalar_one(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        return self.one(connection, params)[0]

    def _plan_for(self, connection: Connection, params: Mapping[str, Any]) -> _Plan:
        names = tuple(sorted(params)) if self.keyed else None
        key = (connection.dialect.name, names)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(connection, names)
        return plan

    def _execute(self, connection: Connection, params: Mapping[str, Any]) -> list[Any] | int:
        plan = self._plan_for(connection, params)
        if plan.sql is None or _listened(connection):
            result = connection.execute(self.statement, dict(params))
            if not result.returns_rows:
                return result.rowcount
            return [*map(self.row._make, result)] if self.row is not None else [*result]
        values = _values(plan, params)
        driver = connection.connection.driver_connection
        assert driver is not None
        error_type = connection.dialect.loaded_dbapi.Error
        try:
            cursor = driver.execute(plan.sql, values)
            if plan.row is None:
                return int(cursor.rowcount)
            raw = cursor.fetchall()  # SQLite steps the rows here: its errors too
        except error_type as error:
            raise _wrapped(connection, plan.sql, values, error) from error
        make, results = plan.row._make, plan.results
        if not results:
            return [make(row) for row in raw]
        return [make(_processed(row, results)) for row in raw]

    def _plan(self, connection: Connection, names: tuple[str, ...] | None) -> _Plan:
        dialect = connection.dialect
        compiled = self.statement.compile(dialect=dialect, column_keys=names)
        assert isinstance(compiled, SQLCompiler)
        if dialect.name != "sqlite" or not _plain(compiled):
            return _Plan(None)
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        bind_processors = compiled._bind_processors
        placeholders = list(compiled.positiontup or ())
        binds = []
        for name in dict.fromkeys(placeholders):  # each parameter once, in order
            bind = by_name[name]
            default = _REQUIRED if bind.required else bind.effective_value
            process = bind_processors.get(name)
            if process is not None and not callable(process):  # a tuple type: not plain
                return _Plan(None)
            binds.append(_Bind(bind.key, name, default, process))
        spread = None
        if len(binds) < len(placeholders):
            index = {bind.name: i for i, bind in enumerate(binds)}
            spread = itemgetter(*(index[name] for name in placeholders))  # two or more
        # Constants the statement binds itself (a LIMIT, a literal value): the slow path.
        constant = any(bind.default is not _REQUIRED for bind in binds)
        take = None if constant else _getter([bind.key for bind in binds])
        processors = tuple((i, b.process) for i, b in enumerate(binds) if b.process)
        columns = compiled._result_columns
        if not columns:  # no SELECT, no RETURNING
            return _Plan(
                compiled.string, tuple(binds), take=take, processors=processors, spread=spread
            )
        keys = [entry.keyname for entry in columns]
        row: Any = self.row or namedtuple("Row", keys, rename=True)
        results = tuple(
            (index, process)
            for index, entry in enumerate(columns)
            if (process := entry.type.dialect_impl(dialect).result_processor(dialect, None))
        )
        return _Plan(compiled.string, tuple(binds), row, results, take, processors, spread)


_CONNECTION = "storage.prepared.connection"  # session.info: (transaction, its connection)


def session_connection(session: Session) -> Connection:
    """``session.connection()``, remembered for the session's current transaction.

    A status reply asks for its session's connection about ten times, and each time the
    session walks its state-checked transaction methods (1–2 µs). The answer is the same
    Connection for as long as that transaction (nested or not) is the active one, which is
    what this checks; anything else (no transaction yet, a new one after a commit or a
    rollback, a deactivated one) goes through ``session.connection()`` again, so it begins
    the transaction or raises exactly as it would have."""
    current = session.get_nested_transaction() or session.get_transaction()
    known = session.info.get(_CONNECTION)
    if known is not None and current is not None and known[0] is current and current.is_active:
        connection: Connection = known[1]
        return connection
    connection = session.connection()
    session.info[_CONNECTION] = (
        session.get_nested_transaction() or session.get_transaction(),
        connection,
    )
    return connection


def _getter(keys: list[str]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    if len(keys) == 1:  # itemgetter of one key gives the value, not a tuple
        (key,) = keys
        return lambda params: (params[key],)
    return itemgetter(*keys) if keys else lambda _params: ()


def _listened(connection: Connection) -> bool:
    """Whether anything listens to the connection's events or echoes the SQL (SQLAlchemy's
    path does both; the cursor's would skip them). The flags SQLAlchemy itself reads before
    it dispatches: asking the listener collections costs more than the check is worth."""
    engine = connection.engine
    return connection._has_events or engine._has_events or bool(engine.echo)


def _values(plan: _Plan, params: Mapping[str, Any]) -> list[Any]:
    """The placeholders' values, each through its type's bind processor."""
    try:
        try:
            values = list(plan.take(params)) if plan.take else None
        except KeyError:
            values = None
        if values is None:
            values = [_value(bind, params) for bind in plan.binds]
        values = _processed(values, plan.processors)
        return list(plan.spread(values)) if plan.spread else values
    except (TypeError, ValueError) as error:  # as SQLAlchemy reports a value it cannot bind
        raise StatementError(str(error), plan.sql, dict(params), error) from error


def _wrapped(connection: Connection, sql: str, values: Any, error: Exception) -> StatementError:
    dialect = connection.dialect
    return DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error, dialect=dialect)


def _plain(compiled: SQLCompiler) -> bool:
    """Whether running the compiled text on the cursor is all an execution does."""
    return bool(
        compiled.positional
        and not compiled.escaped_bind_names
        and not compiled.post_compile_params
        and not compiled.literal_execute_params
        and not compiled.insert_prefetch
        and not compiled.update_prefetch
        and not getattr(compiled, "_render_postcompile", False)
    )


def _value(bind: _Bind, params: Mapping[str, Any]) -> Any:
    if bind.key in params:
        return params[bind.key]
    if bind.name in params:
        return params[bind.name]
    if bind.default is _REQUIRED:
        raise InvalidRequestError(f"A value is required for bind parameter {bind.key!r}")
    return bind.default


def _processed(row: Sequence[Any], processors: tuple[tuple[int, Processor], ...]) -> list[Any]:
    """``row``'s values, each one with a processor through it (bind or result)."""
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return values
