"""The roll-up on a real PostgreSQL server (LIKE instead of SQLite's path range, strpos-free
SQL, bound parameters with casts): the same hand-computed figures as on SQLite.

Runs when ``PAPI_BOT_TEST_POSTGRES_URL`` points at a server on 127.0.0.1
(``scripts/postgres-for-tests.sh`` starts one and prints the URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlmodel import Session

from kernel.clock import VN_TZ
from storage.db import make_engine, session_scope, upgrade
from storage.periods import quarter_period
from storage.rollup import Counts, rollup, unit_rank
from storage.taxonomy import sync_taxonomy
from tests.pgdb import SERVER_URL, fresh_database
from tests.reports.dataset import NOW, build_three_level

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not SERVER_URL,
        reason="set PAPI_BOT_TEST_POSTGRES_URL (scripts/postgres-for-tests.sh prints one)",
    ),
]


@pytest.fixture
def pg_session() -> Iterator[Session]:
    with fresh_database("papi_rollup") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                sync_taxonomy(session)
            with Session(engine, expire_on_commit=False) as session:
                yield session
        finally:
            engine.dispose()


def test_rollup_on_postgres(pg_session: Session) -> None:
    data = build_three_level(pg_session)
    q3 = quarter_period(2024, 3)
    result = rollup(pg_session, data.units["P"], q3, NOW, silence_days=21, with_matrix=True)
    t = result.totals
    assert (t.not_started, t.in_progress, t.done, t.blocked) == (1, 4, 4, 2)
    assert (t.overdue, t.silent, t.done_in_period, t.percent_sum) == (1, 3, 2, 510)
    assert result.previous is not None and result.previous.totals.done == 2
    assert [(r.name, r.rank) for r in result.children][:2] == [
        ("Huyện Lục Nam", 1),
        ("Huyện Yên Dũng", 2),
    ]
    assert sum(result.matrix.values(), Counts()) == t
    assert [b.note for b in result.blocked] == ["Thiếu kinh phí", "Chờ hướng dẫn của Sở"]
    later = datetime(2024, 11, 1, 9, 0, tzinfo=VN_TZ)
    past = rollup(pg_session, data.units["P"], q3, later, silence_days=21)
    assert (past.totals.overdue, past.totals.silent, past.totals.done) == (4, 7, 4)
    assert unit_rank(pg_session, data.units["C2"], data.units["P"], NOW) == (3, 3)
