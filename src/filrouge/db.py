"""Database engine and sessions. SQLite (WAL, foreign keys) embedded; PostgreSQL at scale."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

AUTOCHECKPOINT_PAGES = 10_000
BUSY_SECONDS = 30.0  # how long a transaction waits for the write lock before failing


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Make an engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, parsed.database, **kwargs)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _create_sqlite_engine(url: str, database: str | None, **kwargs: Any) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False, "timeout": BUSY_SECONDS}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    WriteGate().install(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself, so a write transaction takes the lock up front
    # (BEGIN IMMEDIATE) instead of failing later with "database is locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
    # Deleted and overwritten content is zeroed, so that an erased customer's data does not
    # linger in free space of the file (core/actions/erasure.py).
    cursor.execute("PRAGMA secure_delete=ON")
    # Commits only checkpoint past ~40 MB of WAL, as a safety net: the checkpointer thread
    # (start_checkpointer) does it in the background, off the requests' path.
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cursor.close()


class WriteGate:
    """One SQLite transaction at a time in this process, handed over the moment one ends.

    Every transaction takes SQLite's write lock up front (``BEGIN IMMEDIATE``). Without the
    gate, the threads of one process waiting for it sit in SQLite's busy handler, which sleeps
    up to 100 ms between tries and lets whoever comes back first win; with it, they wait on a
    condition and the turn goes, at once, to a thread marked with ``writes_first()`` (the
    webhook writer: providers wait for its answers) before the others. Other processes still
    meet in SQLite's busy handler.
    """

    def __init__(self, timeout: float = BUSY_SECONDS) -> None:
        self.timeout = timeout
        self._turn = threading.Condition()
        self._holder: int | None = None  # id() of the DBAPI connection in a transaction
        self._first_waiting = 0
        self.waiting = 0  # threads waiting for their turn

    def install(self, engine: Engine) -> None:
        _GATES[engine] = self
        dialect = engine.dialect
        event.listen(engine, "begin", self._begin_immediate)
        setattr(dialect, "do_commit", self._leaving_after(dialect.do_commit))  # noqa: B010
        setattr(dialect, "do_rollback", self._leaving_after(dialect.do_rollback))  # noqa: B010
        event.listen(engine.pool, "close", self._closed)
        event.listen(engine.pool, "invalidate", self._invalidated)

    def enter(self, holder: int) -> None:
        first = getattr(_priority, "first", False)
        with self._turn:
            self._first_waiting += first
            self.waiting += 1
            try:
                if not self._turn.wait_for(lambda: self._free_for(first), self.timeout):
                    locked = sqlite3.OperationalError("database is locked")
                    raise OperationalError("BEGIN IMMEDIATE", None, locked)
            finally:
                self._first_waiting -= first
                self.waiting -= 1
            self._holder = holder

    def leave(self, holder: int) -> None:
        with self._turn:
            if self._holder == holder:
                self._holder = None
                self._turn.notify_all()

    def _free_for(self, first: bool) -> bool:
        return self._holder is None and (first or not self._first_waiting)

    def _begin_immediate(self, connection: Any) -> None:
        holder = id(connection.connection.dbapi_connection)
        self.enter(holder)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.leave(holder)
            raise

    def _leaving_after(self, end: Callable[[Any], None]) -> Callable[[Any], None]:
        def end_then_leave(connection: Any) -> None:  # the pool's proxy of the connection
            try:
                end(connection)
            finally:
                self.leave(id(getattr(connection, "dbapi_connection", connection)))

        return end_then_leave

    def _closed(self, dbapi_connection: Any, _record: Any) -> None:
        self.leave(id(dbapi_connection))

    def _invalidated(self, dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        self.leave(id(dbapi_connection))


_priority = threading.local()
_GATES: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def write_gate(engine: Engine) -> WriteGate | None:
    """The gate of a SQLite engine (None for other databases)."""
    return _GATES.get(engine)


def writes_first() -> None:
    """The current thread's transactions go before the others' in this process (SQLite)."""
    _priority.first = True


class Checkpointer:
    """Moves the SQLite write-ahead log into the database file from a background thread, so
    that no request pays for it (a checkpoint inside a commit costs ~10 ms)."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        connection = self.engine.raw_connection()
        try:
            while not self._stop.wait(self.interval):
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.close()
        finally:
            connection.close()


def start_checkpointer(engine: Engine) -> Checkpointer | None:
    """Start background checkpoints for a SQLite file engine (None for other databases)."""
    return Checkpointer(engine).start() if is_sqlite(engine) else None


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
