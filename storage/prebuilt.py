"""Statements of the hot path built once with bound parameters (constructing one cost more
than running it: docs/performance.md), and their parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.engine import Connection

from storage.prepared import Prepared


@dataclass(frozen=True)
class UpdateById:
    """``UPDATE table SET <columns> WHERE id = ?``, every column of ``columns`` set."""

    table: Table
    columns: tuple[str, ...]
    statement: Any = field(init=False)
    prepared: Prepared = field(init=False)

    def __post_init__(self) -> None:
        # "v_" + column: a SET clause reserves the bare column names for its own parameters.
        c = self.table.c
        values = {name: bindparam(f"v_{name}", type_=c[name].type) for name in self.columns}
        statement = update(self.table).where(c.id == bindparam("row_id")).values(values)
        object.__setattr__(self, "statement", statement)
        object.__setattr__(self, "prepared", Prepared(statement))

    def run(self, connection: Connection, row_id: int, values: Mapping[str, Any]) -> None:
        """Write ``values`` (every one of ``columns``) on row ``row_id``."""
        params = {f"v_{name}": values[name] for name in self.columns}
        self.prepared.run(connection, params | {"row_id": row_id})
