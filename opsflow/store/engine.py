"""Opening a database: engines, transactions, errors for people, and bringing the schema up to date.

SQLite by default (WAL, busy timeout, `BEGIN IMMEDIATE` for writes); PostgreSQL when the URL says so.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from opsflow.core.config import mask_url
from opsflow.core.errors import ConfigError, StoreError
from opsflow.store.migrations import HEAD, stored_version, upgrade

MIGRATE_LOCK = 0x6F70736D  # "opsm": a PostgreSQL advisory lock held while the schema is upgraded
WAL_SWITCH_TRIES = 300  # 0.1 s apart: as long as the busy timeout


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    # Connections opening a new file together race to switch it to WAL, and SQLite answers "locked" at once
    # instead of waiting (the switch needs the only lock); once one has switched, the file stays in WAL.
    for attempt in range(WAL_SWITCH_TRIES):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_SWITCH_TRIES - 1:
                raise
            time.sleep(0.1)


class Store:
    """A database: open it with a URL, `migrate()` it, then use `begin()` / `read()` transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown_url = mask_url(url)
        self.is_sqlite = url.startswith("sqlite")
        try:
            self.engine = self._make_engine(url)
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"cannot open {self.shown_url}: the driver {exc.name!r} is not installed; "
                "for PostgreSQL install opsflow with its extra: pip install 'opsflow[postgres]'"
            ) from None
        except sa_exc.ArgumentError as exc:
            raise StoreError(f"cannot open {self.shown_url}: {exc}") from None
        except ValueError:  # SQLAlchemy's URL parser on a port or host it cannot read
            raise ConfigError(
                f"cannot open {self.shown_url}: the host or port cannot be read; fix "
                "OPSFLOW_DATABASE_URL, e.g. postgresql+psycopg://USER@HOST:5432/DB"
            ) from None

    def _make_engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            return sa.create_engine(url, pool_pre_ping=True)
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StoreError(
                    f"cannot open {self.shown_url}: the folder {folder} does not exist; create it or "
                    "set OPSFLOW_DATABASE_URL to a file in an existing folder"
                )
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable across crashes, one fsync less
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = "IMMEDIATE" if conn.get_execution_options().get("opsflow_write", True) else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on error. SQLite takes the write lock now."""
        with self._translate():
            with self.engine.connect() as conn:
                with conn.begin():
                    yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot; does not block writers)."""
        with self._translate():
            with self.engine.connect() as conn:
                conn.execution_options(opsflow_write=False)
                with conn.begin():
                    yield conn

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """One connection held for many short write transactions (a send loop: two per message)."""
        with self._translate():
            with self.engine.connect() as conn:
                yield Writer(self, conn)

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sa_exc.IntegrityError:
            raise  # a broken uniqueness rule is a bug in the caller, not the database's state
        except sa_exc.DatabaseError as exc:
            raise StoreError(self._explain(exc)) from None

    def _explain(self, exc: sa_exc.DBAPIError) -> str:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "not a database" in reason:
            return (
                f"cannot use {self.shown_url}: the file is not an SQLite database; point "
                "OPSFLOW_DATABASE_URL at an opsflow database or a new file name"
            )
        if "locked" in reason:
            return (
                f"cannot use {self.shown_url}: the database stayed locked by another process for 30 s; "
                "check for a stuck opsflow process and try again"
            )
        if "unable to open" in reason:
            return f"cannot open {self.shown_url}: {reason}; check that the folder exists and is writable"
        return f"database error on {self.shown_url}: {reason}"

    def schema_version(self) -> int:
        """The schema's version: the Alembic revision as a number (8 for "0008"), 0 for a new database."""
        with self.read() as conn:
            version, _ = stored_version(conn)
        return self._known(version)

    def migrate(self, target: int = HEAD) -> list[int]:
        """Apply the revisions up to `target` that are not applied yet (Alembic, in one transaction); return
        their versions. A database made by release 0.1 is taken over from its table `schema_migrations`."""
        with self.begin() as conn:
            if conn.dialect.name == "postgresql":  # several runners starting on a new database take turns
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
            version, is_alembic = stored_version(conn)
            current = self._known(version)
            if is_alembic and current >= target:
                return []  # the everyday path: plain queries, and Alembic never imported
            return upgrade(conn, current, is_alembic, target)

    def _known(self, version: int | str) -> int:
        if isinstance(version, str):
            raise StoreError(
                f"{self.shown_url} has schema revision {version!r}, which this opsflow does not know "
                f"(its newest is {HEAD}); upgrade opsflow, or check OPSFLOW_DATABASE_URL"
            )
        if version > HEAD:
            raise StoreError(
                f"{self.shown_url} has schema version {version}, newer than this opsflow knows "
                f"({HEAD}); upgrade opsflow"
            )
        return version

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """Open the database at `url` and bring its schema up to date."""
    store = Store(url)
    store.migrate()
    return store


class Writer:
    """A held connection; `transaction()` is a write transaction on it (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store = store
        self.conn = conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.store._translate(), self.conn.begin():
            yield self.conn
