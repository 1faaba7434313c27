"""How a window's eight figures travel out of the roll-up's grouped statement: as two or
three integer sums of packed figures instead of eight sums (``storage.rollup_pass``).

Each packed column is one ``CASE <status> WHEN …``, and SQLite evaluates the status once per
column (it does not share a repeated expression; at a past moment the status is a long
CASE of its own). So the fewer columns, the cheaper each row:

- *narrow* (``bits`` ≤ 10): the four status counts, overdue and silent in one integer,
  ``bits`` bits each; the percent sum and "done in the period" in a second. Groups of fewer
  than ``1 << bits`` (1,024) rows: a province's groups (97 communes × a task, 30 tasks × a
  commune), the nation's (province, task, role) groups. The province's grouped statement is
  8–10 % cheaper than with three columns (docs/performance.md, "Roll-up, seventh pass").
- *wide* (``bits`` 11–21): three integers of three figures each, groups of up to 2,097,151
  rows (the fourth pass's packing).

A group too large for its packing is counted again with the next one (``PACKING``), then
with one sum per figure; the packing a scope needed is remembered as a hint for its next
roll-up (``storage.rollup_pass.grouped``), never the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import case

from storage.models import AssignmentStatus
from storage.rollup_sql import DONE, ONE, ZERO, const

# The packings tried in turn, by bits a figure; after them, one sum per figure.
PACKING: tuple[int, ...] = (10, 21)
NARROW_MAX_BITS = 10  # six figures in 63 bits
# The narrow packing's second integer: the percent sum below this shift, "done in the
# period" above it (a percent sum below 2**40: any group of fewer than 2**10 rows).
PERCENT_BITS = 40


def columns(bits: int) -> int:
    """How many integers a window's figures take with ``bits`` bits a figure."""
    return 2 if bits <= NARROW_MAX_BITS else 3


ByDone = Callable[[Callable[[Any], Any], Any], Any]


def flagged(newly: Any, if_newly: int, otherwise: int) -> Any:
    """``if_newly`` where the row was done in the period, else ``otherwise``; ``newly`` is a
    condition, or a bool where the branch already knows (no ``CASE WHEN 1``: PostgreSQL wants
    a boolean)."""
    if isinstance(newly, bool):
        return const(if_newly if newly else otherwise)
    return case((newly, const(if_newly)), else_=const(otherwise))


def packed(st: Any, late: Any, quiet: Any, pct: Any, bits: int, by_done: ByDone) -> list[Any]:
    """A row's figures as ``columns(bits)`` integers: ``st`` its status, ``late`` and
    ``quiet`` the conditions of overdue and silent (counted when not done), ``pct`` its
    percent when not done; ``by_done(done, other)`` gives ``done(newly)`` for a row done at
    the window's end (``newly``: done in the period) and ``other`` for the rest."""
    if columns(bits) == 2:
        flags = case((late, const(1 << 4 * bits)), else_=ZERO) + case(
            (quiet, const(1 << 5 * bits)), else_=ZERO
        )
        status = {
            AssignmentStatus.NOT_STARTED: ONE + flags,
            AssignmentStatus.IN_PROGRESS: const(1 << bits) + flags,
            AssignmentStatus.DONE: const(1 << 2 * bits),
            AssignmentStatus.BLOCKED: const(1 << 3 * bits) + flags,
        }
        return [
            case({const(k): v for k, v in status.items()}, value=st, else_=flags),
            by_done(lambda newly: flagged(newly, (1 << PERCENT_BITS) + 100, 100), pct),
        ]
    one, two = const(1 << bits), const(1 << 2 * bits)
    flags = case((late, one), else_=ZERO) + case((quiet, two), else_=ZERO)
    status = {
        AssignmentStatus.NOT_STARTED: ONE,
        AssignmentStatus.IN_PROGRESS: one,
        AssignmentStatus.DONE: two,
    }
    return [
        case({const(k): v for k, v in status.items()}, value=st, else_=ZERO),
        case({DONE: ZERO, const(AssignmentStatus.BLOCKED): ONE + flags}, value=st, else_=flags),
        by_done(lambda newly: flagged(newly, (100 << bits) + 1, 100 << bits), pct * one),
    ]


def unpack(sums: Sequence[int], bits: int) -> tuple[int, ...]:
    """The eight figures of ``Counts`` from a group's packed sums."""
    mask = (1 << bits) - 1
    if columns(bits) == 2:
        a, c = int(sums[0]), int(sums[1])  # PostgreSQL: numeric sums
        return (
            a & mask,
            a >> bits & mask,
            a >> 2 * bits & mask,
            a >> 3 * bits & mask,
            a >> 4 * bits & mask,
            a >> 5 * bits,
            c >> PERCENT_BITS,
            c & (1 << PERCENT_BITS) - 1,
        )
    a, b, c = int(sums[0]), int(sums[1]), int(sums[2])
    return (
        a & mask,
        a >> bits & mask,
        a >> 2 * bits,
        b & mask,
        b >> bits & mask,
        b >> 2 * bits,
        c & mask,
        c >> bits,
    )
