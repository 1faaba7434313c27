"""The database process (``bot.dbprocess``): jobs run there on one copy of their object,
errors keep their type, a lost process fails its jobs and the next job starts another, and
``papi-bot run`` on a SQLite file uses it (threads where a test drives the clock)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot import dbprocess
from bot.config import DatabaseConfig, Settings
from bot.dbprocess import DatabaseProcess, DatabaseProcessLost, Recipe, hot_path_database
from bot.dbthreads import DatabaseThreads
from kernel.clock import FixedClock, SystemClock
from storage.db import make_engine
from tests.fakes.dbjobs import Tally

T = TypeVar("T")
NEVER_CONNECTED = "postgresql+psycopg://nobody@127.0.0.1:1/x"


def _with_process(
    tmp_path: Path, body: Callable[[DatabaseProcess], Awaitable[T]], **options: int
) -> T:
    database = DatabaseProcess(f"sqlite:///{tmp_path / 'jobs.db'}", Settings(), **options)

    async def go() -> T:
        try:
            return await body(database)
        finally:
            database.close(wait=True)

    return asyncio.run(go())


def test_jobs_run_in_another_process_on_one_copy_of_each_object(tmp_path: Path) -> None:
    tally, other = Tally(None, 10), Tally(None, 100)

    async def body(database: DatabaseProcess) -> list[tuple[int, int]]:
        return [
            await database.run(tally.count),
            await database.run(tally.count),
            await database.run(other.count),
        ]

    (first, pid), (second, same_pid), (third, _pid) = _with_process(tmp_path, body)
    assert (first, second, third) == (11, 12, 101)  # each object built once, from its recipe
    assert pid == same_pid != os.getpid()
    assert tally.calls == 0  # the parent's object is only the recipe


def test_a_job_writes_the_database_file_the_parent_reads(tmp_path: Path) -> None:
    tally = Tally(None, 0)

    async def body(database: DatabaseProcess) -> list[int]:
        return list(await asyncio.gather(*(database.run(tally.write, f"v{n}") for n in range(5))))

    assert sorted(_with_process(tmp_path, body)) == [1, 2, 3, 4, 5]  # one after another
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    with engine.connect() as connection:
        values = connection.execute(text("SELECT value FROM tally ORDER BY value")).scalars()
        assert list(values) == ["v0", "v1", "v2", "v3", "v4"]
    engine.dispose()


def test_the_process_holds_one_connection_for_every_job(tmp_path: Path) -> None:
    tally, other = Tally(None, 0), Tally(None, 0)

    async def body(database: DatabaseProcess) -> list[tuple[str, int]]:
        await database.run(tally.write, "first")  # a committed write in between
        return [await database.run(tally.bound_to), await database.run(other.bound_to)]

    (kind, held), (other_kind, other_held) = _with_process(tmp_path, body)
    assert kind == other_kind == "Connection"  # not the engine: no pool check-out per job
    assert held == other_held  # the same one for every object the process builds


def test_a_lost_connection_fails_one_job_and_the_next_reconnects(tmp_path: Path) -> None:
    tally = Tally(None, 0)

    async def body(database: DatabaseProcess) -> tuple[BaseException, int]:
        await database.run(tally.write, "before")
        await database.run(tally.lose_connection)
        with pytest.raises(DBAPIError) as raised:  # the job that meets it: its own error
            await database.run(tally.write, "lost")
        after = await database.run(tally.write, "after")  # a new driver connection
        return raised.value, after

    error, after = _with_process(tmp_path, body)
    assert "closed database" in str(error)
    assert after == 2  # "before" and "after": the failed job wrote nothing
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    with engine.connect() as connection:
        values = connection.execute(text("SELECT value FROM tally ORDER BY value")).scalars()
        assert list(values) == ["after", "before"]
    engine.dispose()


def test_an_error_keeps_its_type_and_the_process_traceback(tmp_path: Path) -> None:
    tally = Tally(None, 0)

    async def body(database: DatabaseProcess) -> tuple[BaseException, BaseException, int]:
        with pytest.raises(LookupError) as raised:
            await database.run(tally.fail, "no such row")
        with pytest.raises(Exception) as unsent:  # a result that cannot be pickled
            await database.run(tally.unpicklable)
        after, _pid = await database.run(tally.count)
        return raised.value, unsent.value, after

    error, unsent, after = _with_process(tmp_path, body)
    assert str(error) == "no such row"
    notes = "\n".join(getattr(error, "__notes__", []))
    assert "in the database process" in notes and "in fail" in notes
    assert "in the database process" in "\n".join(getattr(unsent, "__notes__", []))
    assert after == 1  # the process goes on after both


def test_a_lost_process_fails_its_jobs_and_the_next_job_starts_another(tmp_path: Path) -> None:
    tally = Tally(None, 0)

    async def body(database: DatabaseProcess) -> tuple[int, int, int]:
        _calls, first_pid = await database.run(tally.count)
        slow = asyncio.ensure_future(database.run(tally.sleep, 30.0))
        await asyncio.sleep(0.2)
        os.kill(first_pid, signal.SIGKILL)
        with pytest.raises(DatabaseProcessLost):
            await asyncio.wait_for(slow, 10)
        calls, second_pid = await database.run(tally.count)
        return first_pid, second_pid, calls

    first_pid, second_pid, calls = _with_process(tmp_path, body)
    assert second_pid != first_pid
    assert calls == 1  # the new process built its own copy


def test_sigterm_and_sigint_leave_the_process_to_papi_bot_run(tmp_path: Path) -> None:
    tally = Tally(None, 0)

    async def body(database: DatabaseProcess) -> tuple[int, int]:
        _calls, pid = await database.run(tally.count)
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
        await asyncio.sleep(0.3)
        return pid, (await database.run(tally.count))[1]

    before, after = _with_process(tmp_path, body)
    assert before == after


def test_a_job_cancelled_before_the_process_took_it_never_runs(tmp_path: Path) -> None:
    tally, mark = Tally(None, 0), tmp_path / "ran"

    async def body(database: DatabaseProcess) -> None:
        busy = asyncio.ensure_future(database.run(tally.sleep, 0.5))
        await asyncio.sleep(0.1)
        queued = asyncio.ensure_future(database.run(tally.sleep, 0.0, str(mark)))
        await asyncio.sleep(0)
        queued.cancel()
        await busy
        await database.run(tally.count)  # everything handed over before it has run

    _with_process(tmp_path, body, window=1)
    assert not mark.exists()


def test_close_ends_the_process_and_refuses_new_jobs(tmp_path: Path) -> None:
    tally = Tally(None, 0)
    database = DatabaseProcess(f"sqlite:///{tmp_path / 'jobs.db'}", Settings())

    async def go() -> int:
        _calls, pid = await database.run(tally.count)
        database.close(wait=True)
        with pytest.raises(RuntimeError, match="closed"):
            await database.run(tally.count)
        return pid

    pid = asyncio.run(go())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped


def test_the_process_ends_by_itself_when_its_socket_closes(tmp_path: Path) -> None:
    """``papi-bot run`` killed: nobody sends the stop, the socket's end is enough."""
    tally = Tally(None, 0)
    database = DatabaseProcess(f"sqlite:///{tmp_path / 'jobs.db'}", Settings())

    async def go() -> subprocess.Popen[bytes]:
        await database.run(tally.count)
        proc = database._proc
        assert proc is not None and database._writer is not None
        database._writer.transport.abort()  # as the kernel does for a killed process
        return proc

    proc = asyncio.run(go())
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.returncode == 0


def test_run_on_a_sqlite_file_uses_the_process_and_elsewhere_threads(tmp_path: Path) -> None:
    file_url = f"sqlite:///{tmp_path / 'bot.db'}"
    system, fixed = SystemClock(), FixedClock(datetime(2026, 12, 3, tzinfo=UTC))
    chosen = hot_path_database(make_engine(file_url), Settings(), system)
    assert isinstance(chosen.pipeline, DatabaseProcess) and chosen.outbox is chosen.pipeline
    off = Settings(database=DatabaseConfig(url=file_url, process=False))
    others = [
        hot_path_database(make_engine(file_url), Settings(), fixed),  # a test moves the clock
        hot_path_database(make_engine("sqlite://"), Settings(), system),  # memory: one process
        hot_path_database(make_engine(file_url), off, system),
        hot_path_database(
            make_engine("postgresql+psycopg://nobody@127.0.0.1:1/x"), Settings(), system
        ),
    ]
    for database in others:
        assert isinstance(database.pipeline, DatabaseThreads)
        database.close()
    chosen.close()


def test_a_system_without_pass_fds_keeps_the_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbprocess, "_CAN_PASS_FDS", False)  # as on Windows
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    chosen = hot_path_database(engine, Settings(), SystemClock())
    assert isinstance(chosen.pipeline, DatabaseThreads)
    chosen.close()


def test_a_process_that_cannot_start_fails_the_job_and_the_next_job_tries_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tally = Tally(None, 0)
    spawn = dbprocess._spawn

    def no_process(_theirs: object) -> None:
        raise OSError("no more processes")

    async def body(database: DatabaseProcess) -> int:
        monkeypatch.setattr(dbprocess, "_spawn", no_process)
        with pytest.raises(DatabaseProcessLost) as raised:
            await database.run(tally.count)
        assert isinstance(raised.value.__cause__, OSError)
        monkeypatch.setattr(dbprocess, "_spawn", spawn)
        return (await database.run(tally.count))[0]

    assert _with_process(tmp_path, body) == 1


def test_an_object_whose_recipe_cannot_be_sent_fails_its_job_only(tmp_path: Path) -> None:
    tally = Tally(None, 0)
    unsendable = Tally(None, 0)
    unsendable.recipe = lambda: Recipe(lambda engine: None, ())  # type: ignore[method-assign]

    async def body(database: DatabaseProcess) -> int:
        with pytest.raises(Exception, match="pickle"):
            await database.run(unsendable.count)
        return (await database.run(tally.count))[0]

    assert _with_process(tmp_path, body) == 1


def test_a_bot_folder_in_the_working_directory_is_not_what_the_process_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    impostor = tmp_path / "elsewhere" / "bot"
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("raise SystemExit('the wrong bot package')\n")
    monkeypatch.chdir(impostor.parent)
    tally = Tally(None, 0)

    async def body(database: DatabaseProcess) -> int:
        return (await database.run(tally.count))[0]

    assert _with_process(tmp_path, body) == 1
