"""The hot path's database work in a process of its own (SQLite, ``[database] process``).

Why a process: SQLite releases the GIL around every call it makes and takes it back after.
A database thread therefore waits for the event loop's thread at every statement of a reply
(eleven and a commit), and that waiting costs both threads CPU: ``profile_status.py
--contend`` measured applying a reply at about 1 ms of CPU alone and 4–6 ms beside a busy
Python thread. A process has a GIL of its own. On SQLite every write of the hot path (the
pipeline applying replies, the outbox worker's claims and outcomes) goes to this one process,
which runs them one after another as the one database thread did (see ``bot.dbthreads``).

``DatabaseProcess.run(obj.method, *args)`` awaits ``method(*args)`` run by the process on its
copy of ``obj``: the copy is built once, from ``obj.recipe()`` (a module-level factory and
plain arguments; the process passes first the one connection it holds, ``storage.bind``).
Jobs, results and errors cross a socket pair as pickles (``bot.dbframes``: dataclasses and
UTC datetimes without the standard pickle's Python steps). An error keeps its type and gets
the process's traceback as a note. If the process ends (killed, crashed), the jobs waiting
for it fail with ``DatabaseProcessLost`` and the next job starts a new one: an update not
applied is received again (the channels only confirm what was applied), an outbox row not
claimed is read again.
The process ignores SIGINT and SIGTERM: ``papi-bot run`` stops it after its own graceful
stop (the "sent" of the messages in flight are written by it), and it ends by itself when
its socket closes (``papi-bot run`` killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine

from bot.config import Settings
from bot.dbframes import dumps
from bot.dbthreads import DatabaseLost, HotPathDatabase, database_threads
from kernel.clock import Clock, SystemClock

log = logging.getLogger("bot.dbprocess")

T = TypeVar("T")

WINDOW = 32  # jobs handed to the process at once; later ones wait here, where a cancel drops them
STOP_WAIT_SECONDS = 10.0  # close(wait=True): the process ends after the job it is running
_HEADER = 4  # bytes of a frame's length, big-endian
_PICKLE = pickle.HIGHEST_PROTOCOL
_FD_ENV = "PAPI_BOT_DB_PROCESS_FD"  # the process's end of the socket pair
_ENDED = "the database process ended before it answered"
_CAN_PASS_FDS = os.name == "posix"  # its socket is handed over with pass_fds


@dataclass(frozen=True, slots=True)
class Recipe:
    """How the process builds its copy of an object: ``factory(held, *args)``, ``held``
    the process's one connection (``storage.bind``). The factory
    is pickled by name (a module-level function), the arguments by value."""

    factory: Callable[..., Any]
    args: tuple[Any, ...]


class Rebuildable(Protocol):
    def recipe(self) -> Recipe: ...


class DatabaseProcessLost(DatabaseLost):
    """The database process ended before it answered this job."""


class DatabaseProcess:
    """The parent's side: ``run`` awaits a job's result; ``close`` stops the process."""

    def __init__(
        self, url: str, settings: Settings, *, log_level: int | None = None, window: int = WINDOW
    ) -> None:
        self._url = url
        self._window = window
        self._settings = settings
        self._log_level = log_level
        self._closed = False
        self._job_ids = itertools.count(1)
        self._keys: dict[int, tuple[int, Rebuildable]] = {}  # id(obj) → key, obj (kept alive)
        self._backlog: deque[tuple[int, int, asyncio.Future[Any], bytes]] = deque()
        self._waiting: dict[int, asyncio.Future[Any]] = {}  # handed to the process
        self._built: set[int] = set()  # keys the running process has built
        self._starting: asyncio.Future[None] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the one its socket belongs to

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in the process; ``func`` is a method of a ``Rebuildable``.
        Cancelled before the process was handed it: it does not run. Cancelled later: it
        finishes there, its result is dropped."""
        if self._closed:
            raise RuntimeError("database process closed")
        owner = getattr(func, "__self__", None)
        if owner is None or not hasattr(owner, "recipe"):
            raise TypeError(f"{func!r} is not a method of an object with a recipe()")
        loop = asyncio.get_running_loop()
        if self._writer is not None and loop is not self._loop:
            raise RuntimeError("the database process answers another event loop")
        key = self._key_of(owner)
        future: asyncio.Future[T] = loop.create_future()
        job = next(self._job_ids)
        payload = dumps(("call", job, key, func.__name__, args))
        self._backlog.append((job, key, future, payload))
        if self._writer is None:
            await self._start_once()
        self._pump()
        return await future

    def _key_of(self, owner: Rebuildable) -> int:
        known = self._keys.get(id(owner))
        if known is None or known[1] is not owner:
            known = (len(self._keys) + 1, owner)
            self._keys[id(owner)] = known
        return known[0]

    async def _start_once(self) -> None:
        """Start the process (once for the callers of the same moment); if it cannot be
        started, every queued job fails with ``DatabaseProcessLost``."""
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(self._starting)
        except Exception as exc:
            log.error("the database process could not be started: %s", type(exc).__name__)
            self._fail_backlog("the database process could not be started", exc)

    async def _start(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self._proc = _spawn(theirs)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        self._loop = asyncio.get_running_loop()
        level = self._log_level if self._log_level is not None else logging.getLogger().level
        self._write(pickle.dumps(("init", self._url, self._settings, level), _PICKLE))
        self._built = set()
        self._reading = asyncio.create_task(self._read(reader, self._proc))

    def _pump(self) -> None:
        """Hand queued jobs to the process, at most ``window`` unanswered at a time."""
        while self._writer is not None and self._backlog and len(self._waiting) < self._window:
            job, key, future, payload = self._backlog.popleft()
            if future.cancelled():
                continue
            if key not in self._built:
                try:
                    build = pickle.dumps(("build", key, self._owner(key).recipe()), _PICKLE)
                except Exception as exc:  # a recipe that cannot be sent: a bug, the job's
                    future.set_exception(exc)
                    continue
                self._write(build)
                self._built.add(key)
            self._waiting[job] = future
            self._write(payload)

    def _owner(self, key: int) -> Rebuildable:
        return next(owner for known, owner in self._keys.values() if known == key)

    def _write(self, payload: bytes) -> None:
        assert self._writer is not None
        if self._writer.is_closing():  # the process is gone: the job fails with _lost
            return
        self._writer.write(len(payload).to_bytes(_HEADER, "big") + payload)

    async def _read(self, reader: asyncio.StreamReader, proc: subprocess.Popen[bytes]) -> None:
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(_HEADER), "big")
                job, ok, value = pickle.loads(await reader.readexactly(size))
                future = self._waiting.pop(job, None)
                if future is not None and not future.done():
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
                self._pump()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the process ended
        finally:
            self._lost(proc)

    def _lost(self, proc: subprocess.Popen[bytes]) -> None:
        if self._proc is not proc:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):  # reaped: no zombie stays
            proc.wait(0.5)  # its socket closed as it exited: this is a matter of moments
        if not self._closed:
            code = proc.poll()
            log.warning(
                "the database process ended (exit code %s); the next job starts another", code
            )
        self._proc = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for future in self._waiting.values():
            if not future.done():  # one error each: a shared one would pile up tracebacks
                future.set_exception(DatabaseProcessLost(_ENDED))
        self._waiting.clear()
        self._fail_backlog(_ENDED)

    def _fail_backlog(self, why: str, cause: BaseException | None = None) -> None:
        while self._backlog:
            future = self._backlog.popleft()[2]
            if not future.done():
                error = DatabaseProcessLost(why)
                error.__cause__ = cause
                future.set_exception(error)

    def close(self, *, wait: bool = False) -> None:
        """No new jobs; jobs not yet handed to the process are cancelled, the process ends
        after the ones it has (``wait``: until it has, at most ``STOP_WAIT_SECONDS``)."""
        self._closed = True
        for _job, _key, future, _payload in self._backlog:
            future.cancel()
        self._backlog.clear()
        proc, writer = self._proc, self._writer
        if writer is not None:
            with contextlib.suppress(Exception):  # the process may be gone already
                writer.write((0).to_bytes(_HEADER, "big"))  # an empty frame: stop
                writer.close()
        if proc is not None and wait:
            try:
                proc.wait(STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                log.warning("the database process did not stop; killing it")
                proc.kill()
                proc.wait()


def hot_path_database(engine: Engine, settings: Settings, clock: Clock) -> HotPathDatabase:
    """The database process for a SQLite file read on the system clock (the process has no
    other: a test's clock that the test moves stays in the test), on a POSIX system (it is
    handed its socket with ``pass_fds``), unless ``[database] process = false``; else the
    database threads (``bot.dbthreads``)."""
    database = engine.url.database or ""
    own_file = database not in ("", ":memory:") and not database.startswith("file:")
    if (
        _CAN_PASS_FDS
        and engine.dialect.name == "sqlite"
        and own_file
        and settings.database.process
        and type(clock) is SystemClock
    ):
        one = DatabaseProcess(engine.url.render_as_string(hide_password=False), settings)
        return HotPathDatabase(pipeline=one, outbox=one)
    return database_threads(engine)


def _spawn(theirs: socket.socket) -> subprocess.Popen[bytes]:
    """The process, given its end of the socket pair (a fork and an exec: milliseconds). It
    imports this very package: its folder comes first, and ``-P`` keeps the working
    directory out (a ``bot/`` folder there would be imported instead)."""
    env = dict(os.environ)
    env[_FD_ENV] = str(theirs.fileno())
    root = str(Path(__file__).resolve().parent.parent)
    code = f"import sys; sys.path.insert(0, {root!r}); import bot.dbprocess as d; d.child_main()"
    return subprocess.Popen(
        [sys.executable, "-P", "-c", code],
        pass_fds=(theirs.fileno(),),
        stdin=subprocess.DEVNULL,
        env=env,
    )


# --- the process itself --------------------------------------------------------------------


def child_main() -> None:
    """The database process: read jobs from its socket, run them in order, answer each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C in a terminal reaches the whole group
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # papi-bot run stops it after its own stop
    sock = socket.socket(fileno=int(os.environ[_FD_ENV]))
    stream = sock.makefile("rb")
    first = _read_frame(stream)
    if first is None:
        return
    _kind, url, settings, level = pickle.loads(first)
    engine = _prepare(url, settings, level)
    try:
        # One connection for every job: they run one after another, so a pool would only
        # check the same connection out and in again around each (storage.bind).
        with engine.connect() as held:
            _serve(stream, sock, held)
    finally:
        engine.dispose()


def _prepare(url: str, settings: Settings, level: int) -> Engine:
    from bot.logsetup import configure_logging
    from kernel.clock import set_local_zone
    from storage.db import make_engine

    configure_logging(settings, level=level)
    set_local_zone(settings.tz)
    return make_engine(url)


def _serve(stream: IO[bytes], sock: socket.socket, held: Connection) -> None:
    objects: dict[int, Any] = {}
    while (frame := _read_frame(stream)) is not None:
        message = pickle.loads(frame)
        if message[0] == "build":
            _kind, key, recipe = message
            try:
                objects[key] = recipe.factory(held, *recipe.args)
            except Exception as exc:  # every call on it answers this error
                objects[key] = _portable(exc)
            continue
        _kind, job, key, name, args = message
        target = objects[key]
        try:
            if isinstance(target, BaseException):
                raise target
            answer = dumps((job, True, getattr(target, name)(*args)))
        except Exception as exc:
            answer = pickle.dumps((job, False, _portable(exc)), _PICKLE)
        try:
            sock.sendall(len(answer).to_bytes(_HEADER, "big") + answer)
        except OSError:  # papi-bot run is gone: there is nobody left to answer
            return


def _read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame; None at the end (the socket closed, or the empty frame: stop)."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    if size == 0:
        return None
    frame = stream.read(size)
    return frame if len(frame) == size else None


def _portable(exc: Exception) -> Exception:
    """``exc`` with the process's traceback as a note, if it survives pickling; else a
    RuntimeError saying what it was."""
    where = "".join(traceback.format_exception(exc))
    try:
        exc.add_note(f"in the database process:\n{where}")
        pickle.loads(pickle.dumps(exc, _PICKLE))
        return exc
    except Exception:
        plain = RuntimeError(f"{type(exc).__name__}: {exc}")
        plain.add_note(f"in the database process:\n{where}")
        return plain
