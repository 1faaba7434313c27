"""``column IN (a list bound at execution)`` that compiles once.

SQLAlchemy's expanding ``IN`` renders one placeholder per value at every execution, so a
statement that carries one is rewritten (and its parameters processed) each time it runs,
and ``storage.prepared`` has to leave it to SQLAlchemy's path. A roll-up reads its tasks,
scores and blocked units that way: about a tenth of a province's roll-up
(docs/performance.md, "Roll-up, fifth pass"). On SQLite ``any_of`` binds the whole list as
one JSON array that ``json_each`` unpacks (a statement compiled once, run on the cursor);
elsewhere it is SQLAlchemy's expanding ``IN``, unchanged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, bindparam, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType
from sqlalchemy.types import Boolean


class AnyOf(ColumnElement[bool]):
    """``column IN (:name)``, the value of ``name`` a list given at execution."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" after it in a WHERE
    # SQLAlchemy declares it on the instance; it is the class's, as in its own elements.
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def any_of(column: Any, name: str) -> AnyOf:
    return AnyOf(column, name)


@compiles(AnyOf)
def _expanding(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(AnyOf, "sqlite")
def _json_array(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    values = func.json_each(bindparam(element.name, type_=JSON()))
    listed: Select[Any] = select(literal_column("value")).select_from(values)
    return compiler.process(element.column.in_(listed), **kw)
