"""The pickles of the database process's frames (``bot.dbprocess``), without the slow steps.

Every status reply crosses the socket at least twice (the inbound and its ``Applied``), and
most of what crosses is frozen, slotted dataclasses (``Inbound``, ``ClaimTerms``,
``QueuedRow``, the outbox's ``PendingRow``) and aware UTC datetimes. The standard pickling of
both runs Python: a slotted dataclass is saved by ``dataclasses``' own ``__getstate__``
(``fields(self)`` rebuilt for each object) and restored by its ``__setstate__`` (the same,
then one ``object.__setattr__`` per field); ``timezone.utc`` by ``object.__reduce_ex__``,
which asks ``copyreg._slotnames`` each time (a built-in type cannot keep the answer). Here a
pickler's dispatch table saves such a dataclass as its class called with its fields' values
(read by one ``attrgetter``, restored by the class's own ``__init__``) and ``timezone.utc``
as a function returning it. The loading side needs nothing special: ``pickle.loads``.

A dataclass qualifies when its ``__init__`` takes every field and only them, and it has no
``__post_init__`` (which could change what was given) nor a ``__reduce__`` of its own; any
other type is pickled as before. The unpickled objects are equal to the originals, and an
aware datetime keeps ``timezone.utc`` itself as its ``tzinfo`` (code compares
``tzinfo is UTC``).
"""

from __future__ import annotations

import dataclasses
import io
import pickle
from collections.abc import Callable
from datetime import UTC, timezone
from operator import attrgetter
from typing import Any

PROTOCOL = pickle.HIGHEST_PROTOCOL

Reduced = tuple[Any, ...]


def utc() -> timezone:
    """``timezone.utc`` itself, as the loading side finds it (by this function's name)."""
    return UTC


def _reduce_zone(zone: timezone) -> Reduced:
    if zone is UTC:
        return (utc, ())
    reduced = zone.__reduce_ex__(PROTOCOL)  # another fixed offset: as the standard pickle
    assert isinstance(reduced, tuple)
    return reduced


def _fields_reducer(cls: type) -> Callable[[Any], Reduced] | None:
    """``obj → (cls, its fields' values)`` if ``cls(*values)`` rebuilds an equal object."""
    if not dataclasses.is_dataclass(cls) or not _rebuilt_by_init(cls):
        return None
    names = [field.name for field in dataclasses.fields(cls)]
    if not names:
        return lambda _obj: (cls, ())
    if len(names) == 1:  # attrgetter of one name gives the value, not a tuple
        read_one = attrgetter(names[0])
        return lambda obj: (cls, (read_one(obj),))
    read = attrgetter(*names)
    return lambda obj: (cls, read(obj))


def _rebuilt_by_init(cls: type) -> bool:
    """Whether the dataclass's ``__init__`` given its fields' values rebuilds the object:
    it takes every field (no ``init=False``, no ``InitVar``), runs nothing more (no
    ``__post_init__``), the instance has no ``__dict__`` beside its slots, and the class
    does not choose its own pickling."""
    params = vars(cls).get("__dataclass_params__")
    if params is None or not params.init or hasattr(cls, "__post_init__"):
        return False
    if cls.__dictoffset__ != 0:  # a __dict__ beside the slots: it would be lost
        return False
    own = vars(cls)
    if "__reduce__" in own or "__reduce_ex__" in own:
        return False
    for name, standard in (
        ("__getstate__", "_dataclass_getstate"),
        ("__setstate__", "_dataclass_setstate"),
    ):
        method = own.get(name)
        if method is not None and getattr(method, "__name__", None) != standard:
            return False
    for field in own["__dataclass_fields__"].values():
        kind = field._field_type  # ClassVar, InitVar or a field: the constructor's view
        if kind is dataclasses._FIELD_CLASSVAR:  # type: ignore[attr-defined]
            continue
        if kind is not dataclasses._FIELD or not field.init:  # type: ignore[attr-defined]
            return False
    return True


class _Table(dict[type, Callable[[Any], Reduced]]):
    """The dispatch table: a type's reducer, worked out the first time the type is met. A
    type without one raises ``KeyError`` (pickle then takes its standard path); each such
    type is remembered, so that answer costs a set lookup after the first time."""

    def __init__(self) -> None:
        super().__init__({timezone: _reduce_zone})
        self._standard: set[type] = set()

    def __missing__(self, cls: type) -> Callable[[Any], Reduced]:
        if cls not in self._standard:
            reducer = _fields_reducer(cls)
            if reducer is not None:
                self[cls] = reducer
                return reducer
            self._standard.add(cls)
        raise KeyError(cls)


_TABLE = _Table()


def dumps(obj: Any) -> bytes:
    """``pickle.dumps(obj)``, the dataclasses and UTC saved as described above."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, PROTOCOL)
    pickler.dispatch_table = _TABLE
    pickler.dump(obj)
    return buffer.getvalue()


loads = pickle.loads
