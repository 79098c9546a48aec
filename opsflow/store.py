"""The only database module: tables, versioned migrations, transactions (SQLAlchemy Core).

SQLite by default (WAL, busy timeout, `BEGIN IMMEDIATE` for writes); PostgreSQL when the URL says so.
Times are stored as naive UTC and come back aware (UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from .config import mask_url
from .errors import StoreError

STEP_STATES = ("planned", "running", "done", "failed", "missed", "cancelled")


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("series", sa.String(200), nullable=False, server_default=""),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("start_at", UTCDateTime, nullable=False),
    sa.Column("end_at", UTCDateTime, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

steps = sa.Table(
    "steps", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("at_expr", sa.String(200), nullable=False),
    sa.Column("after_key", sa.String(100)),
    sa.Column("params_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("state", sa.String(16), nullable=False, server_default="planned"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", UTCDateTime),
    sa.UniqueConstraint("event_id", "key", name="uq_steps_event_key"),
)

registrants = sa.Table(
    "registrants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("organization", sa.Text, nullable=False, server_default=""),
    sa.Column("department", sa.Text, nullable=False, server_default=""),
    sa.Column("fields_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("source", sa.String(16), nullable=False, server_default="csv"),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("zoom_registrant_id", sa.String(100)),
    sa.Column("join_url", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "email", name="uq_registrants_event_email"),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("message_key", sa.String(100), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("message_id", sa.String(300)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("event_id", "recipient", "message_key", name="uq_deliveries_claim"),
)

attendance = sa.Table(
    "attendance", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("email", sa.String(320)),
    sa.Column("total_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_join_at", UTCDateTime),
    sa.Column("last_leave_at", UTCDateTime),
    sa.Column("is_attended", sa.Boolean, nullable=False, server_default=sa.false()),
)

zoom_meetings = sa.Table(
    "zoom_meetings", metadata,
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("host", sa.String(320), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # creating, created, deleted
    sa.Column("meeting_id", sa.BigInteger),
    sa.Column("uuid", sa.String(100)),
    sa.Column("join_url", sa.Text),
    sa.Column("passcode", sa.String(100)),
    sa.Column("registration_url", sa.Text),
    sa.Column("synced_hash", sa.String(64)),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


# --- migrations -----------------------------------------------------------------------------
# Each migration is (version, name, function). A migration builds its own tables so that it keeps
# describing the schema of its time however the tables above change later. Never edit a released
# migration; append a new one.

def _m1_initial(conn: Connection) -> None:
    md = sa.MetaData()
    now_cols = lambda: (sa.Column("created_at", UTCDateTime, nullable=False),  # noqa: E731
                        sa.Column("updated_at", UTCDateTime, nullable=False))
    event_fk = lambda: sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"),  # noqa: E731
                                 nullable=False)
    sa.Table("events", md,
             sa.Column("id", sa.String(100), primary_key=True),
             sa.Column("series", sa.String(200), nullable=False, server_default=""),
             sa.Column("title", sa.Text, nullable=False),
             sa.Column("start_at", UTCDateTime, nullable=False),
             sa.Column("end_at", UTCDateTime, nullable=False),
             sa.Column("timezone", sa.String(64), nullable=False),
             sa.Column("language", sa.String(8), nullable=False),
             sa.Column("source_path", sa.Text, nullable=False),
             sa.Column("spec_json", sa.Text, nullable=False),
             sa.Column("spec_hash", sa.String(64), nullable=False),
             sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
             sa.Column("status", sa.String(16), nullable=False, server_default="active"),
             *now_cols())
    sa.Table("steps", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("key", sa.String(100), nullable=False),
             sa.Column("kind", sa.String(50), nullable=False),
             sa.Column("due_at", UTCDateTime, nullable=False),
             sa.Column("at_expr", sa.String(200), nullable=False),
             sa.Column("after_key", sa.String(100)),
             sa.Column("params_json", sa.Text, nullable=False, server_default="{}"),
             sa.Column("state", sa.String(16), nullable=False, server_default="planned"),
             sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
             sa.Column("last_error", sa.Text),
             sa.Column("started_at", UTCDateTime),
             sa.Column("finished_at", UTCDateTime),
             *now_cols(),
             sa.UniqueConstraint("event_id", "key", name="uq_steps_event_key"))
    sa.Table("registrants", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("email", sa.String(320), nullable=False),
             *(sa.Column(n, sa.Text, nullable=False, server_default="") for n in ("name", "organization", "department")),
             sa.Column("fields_json", sa.Text, nullable=False, server_default="{}"),
             sa.Column("source", sa.String(16), nullable=False, server_default="csv"),
             sa.Column("status", sa.String(16), nullable=False, server_default="active"),
             sa.Column("zoom_registrant_id", sa.String(100)),
             sa.Column("join_url", sa.Text),
             *now_cols(),
             sa.UniqueConstraint("event_id", "email", name="uq_registrants_event_email"))
    sa.Table("deliveries", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("recipient", sa.String(320), nullable=False),
             sa.Column("message_key", sa.String(100), nullable=False),
             sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
             sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
             sa.Column("last_error", sa.Text),
             sa.Column("message_id", sa.String(300)),
             *now_cols(),
             sa.Column("sent_at", UTCDateTime),
             sa.UniqueConstraint("event_id", "recipient", "message_key", name="uq_deliveries_claim"))
    sa.Table("attendance", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
             sa.Column("name", sa.Text, nullable=False, server_default=""),
             sa.Column("email", sa.String(320)),
             sa.Column("total_minutes", sa.Integer, nullable=False, server_default="0"),
             sa.Column("first_join_at", UTCDateTime),
             sa.Column("last_leave_at", UTCDateTime),
             sa.Column("is_attended", sa.Boolean, nullable=False, server_default=sa.false()))
    md.create_all(conn)


def _m2_step_leases(conn: Connection) -> None:
    # Runners on several hosts claim a step by taking a lease on it.
    dt = UTCDateTime().dialect_impl(conn.dialect).impl.compile(dialect=conn.dialect)
    conn.exec_driver_sql("ALTER TABLE steps ADD COLUMN lease_owner VARCHAR(100)")
    conn.exec_driver_sql(f"ALTER TABLE steps ADD COLUMN lease_until {dt}")


def _m3_zoom_meetings(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table("events", md, sa.Column("id", sa.String(100), primary_key=True))  # for the foreign key only
    sa.Table(
        "zoom_meetings", md,
        sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("host", sa.String(320), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("meeting_id", sa.BigInteger),
        sa.Column("uuid", sa.String(100)),
        sa.Column("join_url", sa.Text),
        sa.Column("passcode", sa.String(100)),
        sa.Column("registration_url", sa.Text),
        sa.Column("synced_hash", sa.String(64)),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    ).create(conn)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "events, steps, registrants, deliveries, attendance", _m1_initial),
    (2, "step leases for runners on several hosts", _m2_step_leases),
    (3, "the Zoom meeting of each event", _m3_zoom_meetings),
]
HEAD = MIGRATIONS[-1][0]


class Store:
    """A database: open it with a URL, `migrate()` it, then use `begin()` / `read()` transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown_url = mask_url(url)
        self.is_sqlite = url.startswith("sqlite")
        try:
            self.engine = self._make_engine(url)
        except ModuleNotFoundError as exc:
            raise StoreError(f"cannot open {self.shown_url}: the driver {exc.name!r} is not installed; "
                             "for PostgreSQL install opsflow with its extra: pip install 'opsflow[postgres]'") from None
        except sa_exc.ArgumentError as exc:
            raise StoreError(f"cannot open {self.shown_url}: {exc}") from None

    def _make_engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            return sa.create_engine(url, pool_pre_ping=True)
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StoreError(f"cannot open {url}: the folder {folder} does not exist; create it or "
                                 "set OPSFLOW_DATABASE_URL to a file in an existing folder")
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.execute("PRAGMA journal_mode = WAL")
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
            return (f"cannot use {self.shown_url}: the file is not an SQLite database; point "
                    "OPSFLOW_DATABASE_URL at an opsflow database or a new file name")
        if "locked" in reason:
            return (f"cannot use {self.shown_url}: the database stayed locked by another process for 30 s; "
                    "check for a stuck opsflow process and try again")
        if "unable to open" in reason:
            return f"cannot open {self.shown_url}: {reason}; check that the folder exists and is writable"
        return f"database error on {self.shown_url}: {reason}"

    def schema_version(self) -> int:
        """The highest migration applied, 0 for a new database."""
        with self.read() as conn:
            if not sa.inspect(conn).has_table("schema_migrations"):
                return 0
            return conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0

    def migrate(self, target: int = HEAD, now: datetime | None = None) -> list[int]:
        """Apply the migrations up to `target` that are not applied yet; return their versions."""
        applied = []
        now = now or datetime.now(timezone.utc)
        with self.begin() as conn:
            schema_migrations.create(conn, checkfirst=True)
            current = conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0
            if current > HEAD:
                raise StoreError(f"{self.shown_url} has schema version {current}, newer than this opsflow "
                                 f"knows ({HEAD}); upgrade opsflow")
            for version, name, upgrade in MIGRATIONS:
                if current < version <= target:
                    upgrade(conn)
                    conn.execute(schema_migrations.insert().values(version=version, name=name, applied_at=now))
                    applied.append(version)
        return applied

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """Open the database at `url` and bring its schema up to date."""
    store = Store(url)
    store.migrate()
    return store


# --- queries ---------------------------------------------------------------------------------
# Rows come back as read-only mappings (column name -> value).

def get_event(conn: Connection, event_id: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()


def list_events(conn: Connection, event_id: str | None = None) -> list[sa.RowMapping]:
    query = sa.select(events).order_by(events.c.start_at, events.c.id)
    if event_id is not None:
        query = query.where(events.c.id == event_id)
    return list(conn.execute(query).mappings())


def insert_event(conn: Connection, values: dict, now: datetime) -> None:
    conn.execute(events.insert().values(**values, created_at=now, updated_at=now))


def update_event(conn: Connection, event_id: str, values: dict, now: datetime) -> None:
    conn.execute(events.update().where(events.c.id == event_id).values(**values, updated_at=now))


def list_steps(conn: Connection, event_ids: list[str] | None = None) -> list[sa.RowMapping]:
    """Steps of the given events (all events when None), by event then due time."""
    query = sa.select(steps).order_by(steps.c.event_id, steps.c.due_at, steps.c.id)
    if event_ids is not None:
        query = query.where(steps.c.event_id.in_(event_ids))
    return list(conn.execute(query).mappings())


def insert_step(conn: Connection, event_id: str, values: dict, now: datetime) -> None:
    conn.execute(steps.insert().values(event_id=event_id, **values, created_at=now, updated_at=now))


def update_step(conn: Connection, step_id: int, values: dict, now: datetime) -> None:
    conn.execute(steps.update().where(steps.c.id == step_id).values(**values, updated_at=now))


def get_zoom_meeting(conn: Connection, event_id: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(zoom_meetings).where(zoom_meetings.c.event_id == event_id)).mappings().first()


def claim_zoom_meeting(conn: Connection, values: dict, now: datetime) -> bool:
    """Insert the `creating` row of an event's meeting; False when a row exists already (someone claimed it)."""
    row = {**values, "created_at": now, "updated_at": now}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(zoom_meetings).values(**row).on_conflict_do_nothing(index_elements=["event_id"])
                 .returning(zoom_meetings.c.event_id))
    return conn.execute(statement).first() is not None


def take_zoom_lease(conn: Connection, event_id: str, values: dict, now: datetime) -> bool:
    """Take over the `creating` claim of an event's meeting if its lease has run out (or is ours).

    One conditional UPDATE, so that of several runners only one wins, on SQLite and PostgreSQL alike.
    """
    c = zoom_meetings.c
    result = conn.execute(
        zoom_meetings.update()
        .where(c.event_id == event_id, c.state != "created",
               sa.or_(c.lease_until.is_(None), c.lease_until <= now, c.lease_owner == values["lease_owner"]))
        .values(**values, updated_at=now)
    )
    return result.rowcount == 1


def update_zoom_meeting(conn: Connection, event_id: str, values: dict, now: datetime) -> None:
    conn.execute(zoom_meetings.update().where(zoom_meetings.c.event_id == event_id).values(**values, updated_at=now))


def finish_step(conn: Connection, event_id: str, key: str, state: str, now: datetime, error: str | None = None) -> None:
    """Record the outcome of step `key` of an event (a no-op when the event has no such step)."""
    conn.execute(
        steps.update().where(steps.c.event_id == event_id, steps.c.key == key)
        .values(state=state, last_error=error, finished_at=now, updated_at=now, attempts=steps.c.attempts + 1)
    )
