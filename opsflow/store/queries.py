"""Queries and updates, one small function each. Rows come back as read-only mappings."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsflow.store.schema import (
    UTCDateTime,
    attendance,
    deliveries,
    events,
    job_files,
    registrants,
    report_rows,
    steps,
    survey_responses,
    zoom_meetings,
)

__all__ = [
    "get_event",
    "list_events",
    "count_events",
    "events_around",
    "events_by_id",
    "event_timezones",
    "event_ids_with_steps_in",
    "ambiguous_counts_by_event",
    "insert_event",
    "update_event",
    "list_steps",
    "insert_step",
    "update_step",
    "get_zoom_meeting",
    "claim_zoom_meeting",
    "take_zoom_lease",
    "update_zoom_meeting",
    "finish_step",
    "list_registrants",
    "registrant_ids_by_email",
    "active_registrants_page",
    "active_registrants_among",
    "get_registrant",
    "insert_registrant",
    "insert_registrants",
    "count_registrants",
    "registrant_emails",
    "lock_event",
    "lock_apply",
    "reopen_invitations",
    "invitation_went",
    "list_job_files",
    "get_job_file",
    "record_job_file",
    "forget_job_file",
    "replan_step",
    "update_registrant",
    "purge_event",
    "claim_deliveries",
    "deliveries_to_send",
    "take_delivery",
    "mark_sent",
    "finish_delivery",
    "list_deliveries",
    "delivery_counts",
    "waiting_deliveries",
    "set_deliveries",
    "registrants_by_email",
    "delivery_counts_by_event",
    "replace_report_rows",
    "list_report_rows",
    "replace_attendance",
    "list_attendance",
    "replace_survey_responses",
    "list_survey_responses",
    "due_steps",
    "next_due_at",
    "claim_step",
    "get_step",
    "forget_zoom_registrations",
]


def get_event(conn: Connection, event_id: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()


def list_events(conn: Connection, event_id: str | None = None) -> list[sa.RowMapping]:
    query = sa.select(events).order_by(events.c.start_at, events.c.id)
    if event_id is not None:
        query = query.where(events.c.id == event_id)
    return list(conn.execute(query).mappings())


def count_events(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()


def events_around(conn: Connection, now: datetime, *, held: int, upcoming: int) -> list[sa.RowMapping]:
    """The `held` seminars that ended last before `now` and the `upcoming` ones that end after it (one under
    way counts as upcoming), by start. The times are read first and only the chosen rows in full."""
    e = events.c
    past = sa.select(e.id).where(e.end_at <= now).order_by(e.end_at.desc(), e.id.desc()).limit(held)
    future = sa.select(e.id).where(e.end_at > now).order_by(e.start_at, e.id).limit(upcoming)
    ids = [*conn.execute(past).scalars(), *conn.execute(future).scalars()]
    return events_by_id(conn, ids)


def events_by_id(conn: Connection, event_ids: list[str]) -> list[sa.RowMapping]:
    """The events with these ids, by start."""
    query = sa.select(events).where(events.c.id.in_(event_ids)).order_by(events.c.start_at, events.c.id)
    return list(conn.execute(query).mappings())


def event_timezones(conn: Connection, event_ids: list[str] | None = None) -> dict[str, str]:
    """{event id: its IANA time zone} of the given events (all when None), without their job files."""
    query = sa.select(events.c.id, events.c.timezone)
    if event_ids is not None:
        query = query.where(events.c.id.in_(event_ids))
    return {event_id: zone for event_id, zone in conn.execute(query)}


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


def event_ids_with_steps_in(conn: Connection, states: tuple[str, ...]) -> set[str]:
    """The events that have a step in one of `states` (through the index on the steps' state)."""
    return set(conn.execute(sa.select(steps.c.event_id).where(steps.c.state.in_(states)).distinct()).scalars())


def insert_step(conn: Connection, event_id: str, values: dict, now: datetime) -> None:
    conn.execute(steps.insert().values(event_id=event_id, **values, created_at=now, updated_at=now))


def update_step(conn: Connection, step_id: int, values: dict, now: datetime) -> None:
    conn.execute(steps.update().where(steps.c.id == step_id).values(**values, updated_at=now))


def get_zoom_meeting(conn: Connection, event_id: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(zoom_meetings).where(zoom_meetings.c.event_id == event_id)).mappings().first()


def claim_zoom_meeting(conn: Connection, values: dict, now: datetime) -> bool:
    """Insert the `creating` row of an event's meeting; False when a row exists already (someone claimed it)."""
    row = {**values, "created_at": now, "updated_at": now}
    statement = (
        _upsert_insert(conn, zoom_meetings)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(zoom_meetings.c.event_id)
    )
    return conn.execute(statement).first() is not None


def take_zoom_lease(conn: Connection, event_id: str, values: dict, now: datetime) -> bool:
    """Take over the `creating` claim of an event's meeting if its lease has run out (or is ours).

    One conditional UPDATE, so that of several runners only one wins, on SQLite and PostgreSQL alike.
    """
    c = zoom_meetings.c
    result = conn.execute(
        zoom_meetings.update()
        .where(
            c.event_id == event_id,
            c.state != "created",
            sa.or_(c.lease_until.is_(None), c.lease_until <= now, c.lease_owner == values["lease_owner"]),
        )
        .values(**values, updated_at=now)
    )
    return result.rowcount == 1


def update_zoom_meeting(conn: Connection, event_id: str, values: dict, now: datetime) -> None:
    conn.execute(zoom_meetings.update().where(zoom_meetings.c.event_id == event_id).values(**values, updated_at=now))


# The step statements a run makes for every step, built once (building one costs more than running it).
_FINISH_STEP = (
    steps.update()
    .where(steps.c.event_id == sa.bindparam("p_event_id"), steps.c.key == sa.bindparam("p_key"))
    .values(
        state=sa.bindparam("p_state"),
        last_error=sa.bindparam("p_error"),
        finished_at=sa.bindparam("p_now"),
        updated_at=sa.bindparam("p_now"),
        # a runner counted the attempt when it claimed the step; a command run by hand counts here
        attempts=steps.c.attempts + sa.case((steps.c.state == "running", 0), else_=1),
    )
)


def finish_step(conn: Connection, event_id: str, key: str, state: str, now: datetime, error: str | None = None) -> None:
    """Record the outcome of step `key` of an event (a no-op when the event has no such step)."""
    values = {"p_event_id": event_id, "p_key": key, "p_state": state, "p_error": error, "p_now": now}
    conn.execute(_FINISH_STEP, values)


def list_registrants(conn: Connection, event_id: str, status: str | None = None) -> list[sa.RowMapping]:
    """The registrants of an event in the order they came (CSV row, then arrival)."""
    query = sa.select(registrants).where(registrants.c.event_id == event_id).order_by(registrants.c.id)
    if status is not None:
        query = query.where(registrants.c.status == status)
    return list(conn.execute(query).mappings())


def registrant_ids_by_email(conn: Connection, event_id: str, status: str = "active") -> dict[str, int]:
    """{email: id} of the event's registrants in `status`, in their order (no other columns loaded)."""
    r = registrants.c
    query = sa.select(r.email, r.id).where(r.event_id == event_id, r.status == status).order_by(r.id)
    return {email: registrant_id for email, registrant_id in conn.execute(query)}


def active_registrants_page(
    conn: Connection,
    event_id: str,
    after_id: int,
    limit: int,
    *,
    invited: str | None = None,
    unconfirmed: str | None = None,
) -> list[sa.Row]:
    """(id, email) of the next `limit` active registrants after `after_id`, in their order; with
    `invited`, only those sent a message whose key starts with it; with `unconfirmed` (the key of the
    confirmation step), only those it is for (see `_unconfirmed`)."""
    r = registrants.c
    where = _active(event_id, invited, unconfirmed)
    query = sa.select(r.id, r.email).where(where, r.id > after_id).order_by(r.id).limit(limit)
    return list(conn.execute(query))


def active_registrants_among(
    conn: Connection, event_id: str, emails: list[str], *, invited: str | None = None, unconfirmed: str | None = None
) -> set[str]:
    """Which of `emails` are active registrants (with `invited`, also sent such a message; with
    `unconfirmed`, also due the confirmation)."""
    found: set[str] = set()
    for start in range(0, len(emails), 500):  # a few hundred parameters a statement, however many emails
        page = emails[start : start + 500]
        where = _active(event_id, invited, unconfirmed)
        query = sa.select(registrants.c.email).where(where, registrants.c.email.in_(page))
        found.update(conn.execute(query).scalars())
    return found


def _active(event_id: str, invited: str | None, unconfirmed: str | None = None):
    r, d = registrants.c, deliveries.c
    active = sa.and_(r.event_id == event_id, r.status == "active")
    if unconfirmed is not None:
        active = sa.and_(active, _unconfirmed(unconfirmed))
    if invited is None:
        return active
    sent = sa.exists().where(
        d.event_id == r.event_id,
        d.recipient == r.email,
        d.state == "sent",
        d.message_key.startswith(invited, autoescape=True),
    )
    return sa.and_(active, sent)


def _invitation_went(event_id, due_by=None):
    """An invitation step of the event has run (or is running): the invitation has gone out; with
    `due_by`, also when one was due by then (it goes out in the same run, whichever step runs first)."""
    s = steps.alias("invitation").c
    went = sa.or_(s.started_at.is_not(None), s.state.in_(("running", "done", "failed")))
    if due_by is not None:
        went = sa.or_(went, sa.and_(s.state != "cancelled", s.due_at <= due_by))
    return sa.exists().where(s.event_id == event_id, s.kind == "mail.invitation", went)


def _unconfirmed(step_key: str):
    """Who the 受付完了 is for: registrants first seen at or after its step was planned (its row's
    `created_at`) and before an invitation was due, with no invitation of their own in the ledger,
    while no invitation has gone out."""
    r, d, s = registrants.c, deliveries.c, steps.c
    planned_at = sa.select(s.created_at).where(s.event_id == r.event_id, s.key == step_key).scalar_subquery()
    invited = sa.exists().where(
        d.event_id == r.event_id,
        d.recipient == r.email,
        d.message_key.startswith("mail.invitation", autoescape=True),
        d.state != "cancelled",
    )
    return sa.and_(r.created_at >= planned_at, ~invited, ~_invitation_went(r.event_id, due_by=r.created_at))


def invitation_went(conn: Connection, event_id: str, now: datetime) -> bool:
    """Whether an invitation of the event has gone out, or is due by `now`: people seen now get it, and
    no confirmation."""
    return bool(conn.execute(sa.select(_invitation_went(event_id, due_by=now))).scalar())


def get_registrant(conn: Connection, event_id: str, email: str) -> sa.RowMapping | None:
    query = sa.select(registrants).where(registrants.c.event_id == event_id, registrants.c.email == email)
    return conn.execute(query).mappings().first()


def insert_registrant(conn: Connection, event_id: str, values: dict, now: datetime) -> None:
    """Insert a registrant, or update the one with the same email (another runner may have just added
    them): insert-or-update on the unique key, on SQLite and PostgreSQL alike."""
    row = {"event_id": event_id, **values, "created_at": now, "updated_at": now}
    changes = {k: v for k, v in row.items() if k not in ("event_id", "email", "created_at", "source")}
    conn.execute(
        _upsert_insert(conn, registrants)
        .values(**row)
        .on_conflict_do_update(index_elements=["event_id", "email"], set_=changes)
    )


def insert_registrants(conn: Connection, event_id: str, rows: list[dict], now: datetime) -> None:
    """`insert_registrant` for many people in one statement (each row with the same keys)."""
    if not rows:
        return
    insert = _upsert_insert(conn, registrants)
    changed = [k for k in (*rows[0], "updated_at") if k not in ("event_id", "email", "created_at", "source")]
    statement = insert.on_conflict_do_update(
        index_elements=["event_id", "email"], set_={k: insert.excluded[k] for k in changed}
    )
    conn.execute(statement, [{"event_id": event_id, **row, "created_at": now, "updated_at": now} for row in rows])


def count_registrants(conn: Connection, event_id: str, *, source: str, status: str) -> int:
    r = registrants.c
    query = sa.select(sa.func.count()).where(r.event_id == event_id, r.source == source, r.status == status)
    return conn.execute(query).scalar_one()


def registrant_emails(
    conn: Connection, event_id: str, *, source: str, status: str, after_id: int, limit: int
) -> list[sa.Row]:
    """(id, email) of the next `limit` registrants after `after_id` from `source` in `status`, by id."""
    r = registrants.c
    query = (
        sa.select(r.id, r.email)
        .where(r.event_id == event_id, r.source == source, r.status == status, r.id > after_id)
        .order_by(r.id)
        .limit(limit)
    )
    return list(conn.execute(query))


def lock_event(conn: Connection, event_id: str) -> None:
    """Serialise the writers of one event's roster: a row lock on PostgreSQL until the transaction
    ends; on SQLite the write transaction holds the database lock already."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(events.c.id).where(events.c.id == event_id).with_for_update())


APPLY_LOCK = 0x6F707366  # "opsf": one key for every opsflow database on a PostgreSQL server


def lock_apply(conn: Connection) -> None:
    """Serialise `apply` across processes: several cron runners may apply the same new job file at
    once. A transaction-scoped advisory lock on PostgreSQL; SQLite's write transaction is one already."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPLY_LOCK})


_EVENT_TIME = sa.select(events.c.start_at, events.c.status).where(events.c.id == sa.bindparam("p_event_id"))


def _reopen(kind: str, *also):
    return (
        steps.update()
        .where(
            steps.c.event_id == sa.bindparam("p_event_id"),
            steps.c.kind == kind,
            steps.c.state.in_(("done", "failed")),
            *also,
        )
        .values(
            state="planned",
            retry_at=sa.bindparam("p_now"),
            last_error="new registrants since it went out",
            lease_owner=None,
            lease_until=None,
            updated_at=sa.bindparam("p_now"),
        )
    )


_REOPEN_INVITATIONS = _reopen("mail.invitation")
# the confirmation only while no invitation has gone out or is due (the invitation goes to new people then)
_REOPEN_CONFIRMATION = _reopen(
    "mail.confirmation", ~_invitation_went(steps.c.event_id, due_by=sa.bindparam("p_now", type_=UTCDateTime))
)


def reopen_invitations(conn: Connection, event_id: str, now: datetime) -> int:
    """New registrants arrived: an invitation step that has run goes back to `planned`, due now, so
    the next run invites them (the ledger keeps everyone else from a second one); so does the
    confirmation (受付完了), which then goes to the new people only. Not once the seminar has started.
    Returns how many invitation steps were reopened."""
    event = conn.execute(_EVENT_TIME, {"p_event_id": event_id}).first()
    if event is None or event.start_at <= now or event.status != "active":
        return 0
    conn.execute(_REOPEN_CONFIRMATION, {"p_event_id": event_id, "p_now": now})
    return conn.execute(_REOPEN_INVITATIONS, {"p_event_id": event_id, "p_now": now}).rowcount


def update_registrant(conn: Connection, registrant_id: int, values: dict, now: datetime) -> None:
    conn.execute(registrants.update().where(registrants.c.id == registrant_id).values(**values, updated_at=now))


def purge_event(conn: Connection, event_id: str, now: datetime) -> int:
    """Remove the personal data of an event's registrants, attendance and deliveries; keep the rows
    (so every count stays). Returns the number of registrants purged."""
    r, a, d = registrants.c, attendance.c, deliveries.c
    purged = conn.execute(
        registrants.update()
        .where(r.event_id == event_id)
        .values(
            email="purged-" + sa.cast(r.id, sa.String),
            name="",
            family_name="",
            given_name="",
            department="",
            fields_json="{}",
            join_url=None,
            zoom_registrant_id=None,
            row_number=None,
            updated_at=now,
        )
    ).rowcount
    conn.execute(attendance.update().where(a.event_id == event_id).values(name="", email=None))
    conn.execute(
        deliveries.update()
        .where(d.event_id == event_id)
        .values(recipient="purged-" + sa.cast(d.id, sa.String), last_error=None, message_id=None)
    )
    conn.execute(report_rows.delete().where(report_rows.c.event_id == event_id))
    conn.execute(
        survey_responses.update().where(survey_responses.c.event_id == event_id).values(email=None, answers_json="{}")
    )
    conn.execute(events.update().where(events.c.id == event_id).values(purged_at=now, updated_at=now))
    return purged


def _upsert_insert(conn: Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def claim_deliveries(conn: Connection, event_id: str, message_key: str, recipients: list[str], now: datetime) -> None:
    """Insert a `pending` row for each recipient who has none for this message (the claim)."""
    statement = _upsert_insert(conn, deliveries).on_conflict_do_nothing(
        index_elements=["event_id", "recipient", "message_key"]
    )
    for start in range(0, len(recipients), 1000):  # rows built a thousand at a time: memory stays flat
        conn.execute(
            statement,
            [
                {
                    "event_id": event_id,
                    "recipient": r,
                    "message_key": message_key,
                    "state": "pending",
                    "created_at": now,
                    "updated_at": now,
                }
                for r in recipients[start : start + 1000]
            ],
        )


def deliveries_to_send(
    conn: Connection, event_id: str, message_key: str, now: datetime, after_id: int, limit: int
) -> list[sa.RowMapping]:
    """The next rows (by id) that may be sent now, pending or deferred and due again: their id,
    recipient and attempts (what the send loop reads)."""
    d = deliveries.c
    query = (
        sa.select(d.id, d.recipient, d.attempts)
        .where(
            d.event_id == event_id,
            d.message_key == message_key,
            d.id > after_id,
            sa.or_(
                d.state == "pending",
                sa.and_(d.state == "deferred", sa.or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now)),
            ),
        )
        .order_by(d.id)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


# The two statements of every message, written once and run as the driver's own SQL: SQLAlchemy's work
# for a Core statement (cache lookup, parameters) costs more than SQLite's for these, each message.
_TAKE_SQL = (
    "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = :now "
    "WHERE id = :id AND state IN ('pending', 'deferred')"
)
_SENT_SQL = (
    "UPDATE deliveries SET state = 'sent', sent_at = :now, updated_at = :now, last_error = NULL, "
    "next_attempt_at = NULL, message_id = :message_id WHERE id = :id"
)


def take_delivery(conn: Connection, delivery_id: int, now: datetime) -> bool:
    """Mark a delivery `sending` if it is still ours to send (pending or deferred): the last claim
    before the message is written, committed first, so that a crash leaves it visibly ambiguous."""
    return _run_driver_sql(conn, _TAKE_SQL, {"id": delivery_id, "now": _stored_time(conn, now)}).rowcount == 1


def mark_sent(conn: Connection, delivery_id: int, message_id: str, now: datetime) -> None:
    """Record a delivery as sent (the server answered 250 to the message)."""
    values = {"id": delivery_id, "now": _stored_time(conn, now), "message_id": message_id}
    _run_driver_sql(conn, _SENT_SQL, values)


def _run_driver_sql(conn: Connection, sql: str, values: dict) -> sa.CursorResult:
    text, names = _in_driver_style(sql, conn.dialect.paramstyle)
    return conn.exec_driver_sql(text, tuple(values[n] for n in names) if names else values)


@functools.cache
def _in_driver_style(sql: str, paramstyle: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `:name` placeholders as the driver writes them (SQLite's `?`, psycopg's
    `%(name)s`), and for a positional style the names in the order their values go."""
    if paramstyle == "qmark":
        return re.sub(r":\w+", "?", sql), tuple(re.findall(r":(\w+)", sql))
    if paramstyle == "pyformat":
        return re.sub(r":(\w+)", r"%(\1)s", sql), ()
    raise NotImplementedError(f"parameters in the {paramstyle!r} style")  # opsflow runs on SQLite and psycopg


_TIME_WRITERS: dict[str, Callable[[datetime], object]] = {}


@functools.lru_cache(maxsize=8)  # a batch writes the same time for each message
def _stored_time_on(dialect_name: str, at: datetime) -> object:
    return _TIME_WRITERS[dialect_name](at)


def _stored_time(conn: Connection, at: datetime) -> object:
    """`at` as the column type stores it on this database (naive UTC; on SQLite, SQLAlchemy's text form)."""
    if conn.dialect.name not in _TIME_WRITERS:
        processor = deliveries.c.updated_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert processor is not None  # UTCDateTime always converts (to naive UTC)
        _TIME_WRITERS[conn.dialect.name] = processor
    return _stored_time_on(conn.dialect.name, at)


def finish_delivery(conn: Connection, delivery_id: int, values: dict, now: datetime) -> None:
    conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(**values, updated_at=now))


def list_deliveries(
    conn: Connection, event_id: str, *, state: str | None = None, message_key: str | None = None
) -> list[sa.RowMapping]:
    d = deliveries.c
    query = sa.select(deliveries).where(d.event_id == event_id).order_by(d.message_key, d.id)
    if state is not None:
        query = query.where(d.state == state)
    if message_key is not None:
        query = query.where(d.message_key == message_key)
    return list(conn.execute(query).mappings())


def delivery_counts(conn: Connection, event_id: str, message_key: str | None = None) -> dict[str, int]:
    d = deliveries.c
    query = sa.select(d.state, sa.func.count()).where(d.event_id == event_id).group_by(d.state)
    if message_key is not None:
        query = query.where(d.message_key == message_key)
    return {state: count for state, count in conn.execute(query)}


def waiting_deliveries(conn: Connection, event_id: str, message_keys: list[str]) -> tuple[int, datetime | None]:
    """How many deliveries of these messages are still to be sent (pending or deferred), and the
    earliest time one of them may go (None when one may go at once): counted in the database."""
    d = deliveries.c
    query = sa.select(
        sa.func.count(),
        sa.func.count(d.next_attempt_at),  # the ones that wait for a time
        sa.func.min(d.next_attempt_at),
    ).where(d.event_id == event_id, d.message_key.in_(message_keys), d.state.in_(("pending", "deferred")))
    count, timed, earliest = conn.execute(query).one()
    return count, earliest if timed == count else None


def set_deliveries(
    conn: Connection,
    event_id: str,
    values: dict,
    now: datetime,
    *,
    states: tuple[str, ...],
    message_key: str | None = None,
    recipients: list[str] | None = None,
) -> int:
    """Change the rows in `states` (of one message, of some recipients); returns how many changed."""
    d = deliveries.c
    query = deliveries.update().where(d.event_id == event_id, d.state.in_(states))
    if message_key is not None:
        query = query.where(d.message_key == message_key)
    if recipients is not None:
        query = query.where(d.recipient.in_(recipients))
    return conn.execute(query.values(**values, updated_at=now)).rowcount


def registrants_by_email(
    conn: Connection, event_id: str, emails: list[str], columns: tuple[str, ...] | None = None
) -> dict[str, sa.RowMapping]:
    """{email: row} of these registrants: every column, or only `columns` (and the email)."""
    r = registrants.c
    selected = [r.email, *(r[name] for name in columns if name != "email")] if columns else [registrants]
    query = sa.select(*selected).where(r.event_id == event_id, r.email.in_(emails))
    return {row["email"]: row for row in conn.execute(query).mappings()}


def registrant_languages(conn: Connection, event_id: str) -> set[str]:
    """The languages the event's active registrants chose (those who chose none are not counted)."""
    r = registrants.c
    query = sa.select(r.language).distinct().where(r.event_id == event_id, r.status == "active", r.language.isnot(None))
    return set(conn.execute(query).scalars())


def delivery_counts_by_event(conn: Connection, event_ids: list[str]) -> dict[str, dict[str, int]]:
    """{event id: {state: count}} for several events in one query."""
    d = deliveries.c
    query = (
        sa.select(d.event_id, d.state, sa.func.count()).where(d.event_id.in_(event_ids)).group_by(d.event_id, d.state)
    )
    out: dict[str, dict[str, int]] = {}
    for event_id, state, count in conn.execute(query):
        out.setdefault(event_id, {})[state] = count
    return out


# The partial index `ix_deliveries_attention` is used only when a query repeats its condition as written.
_ATTENTION = sa.text("deliveries.state IN ('sending', 'failed')")


def ambiguous_counts_by_event(conn: Connection) -> dict[str, int]:
    """{event id: deliveries in `sending`} for every event that has any (through the partial index)."""
    d = deliveries.c
    query = (
        sa.select(d.event_id, sa.func.count())
        .where(_ATTENTION, sa.text("deliveries.state = 'sending'"))
        .group_by(d.event_id)
    )
    return {event_id: count for event_id, count in conn.execute(query)}


def replace_report_rows(conn: Connection, event_id: str, source: str, rows: list[str], now: datetime) -> None:
    """Keep Zoom's rows (as JSON text) for the event, replacing an earlier fetch."""
    conn.execute(report_rows.delete().where(report_rows.c.event_id == event_id))
    if rows:
        conn.execute(
            report_rows.insert(),
            [{"event_id": event_id, "source": source, "row_json": r, "fetched_at": now} for r in rows],
        )


def list_report_rows(conn: Connection, event_id: str) -> list[sa.RowMapping]:
    query = sa.select(report_rows).where(report_rows.c.event_id == event_id).order_by(report_rows.c.id)
    return list(conn.execute(query).mappings())


def replace_attendance(conn: Connection, event_id: str, people: list[dict]) -> None:
    conn.execute(attendance.delete().where(attendance.c.event_id == event_id))
    if people:
        conn.execute(attendance.insert(), [{"event_id": event_id, **p} for p in people])


def list_attendance(conn: Connection, event_id: str) -> list[sa.RowMapping]:
    query = sa.select(attendance).where(attendance.c.event_id == event_id).order_by(attendance.c.id)
    return list(conn.execute(query).mappings())


def replace_survey_responses(conn: Connection, event_id: str, responses: list[dict], now: datetime) -> None:
    """The survey export is the whole truth each time: replace what an earlier import stored."""
    conn.execute(survey_responses.delete().where(survey_responses.c.event_id == event_id))
    if responses:
        conn.execute(survey_responses.insert(), [{"event_id": event_id, "imported_at": now, **r} for r in responses])


def list_survey_responses(conn: Connection, event_id: str) -> list[sa.RowMapping]:
    query = sa.select(survey_responses).where(survey_responses.c.event_id == event_id).order_by(survey_responses.c.id)
    return list(conn.execute(query).mappings())


def _when(c=steps.c):
    return sa.func.coalesce(c.retry_at, c.due_at)


def due_steps(conn: Connection, now: datetime, *, event_id: str | None = None) -> list[sa.RowMapping]:
    """Steps that may run now: planned and due (or due again after a retry), or left `running` by a
    runner whose lease ran out; only of active events. By due time."""
    s, e = steps.c, events.c
    ready = sa.or_(sa.and_(s.state == "planned", _when() <= now), sa.and_(s.state == "running", s.lease_until < now))
    live = sa.or_(e.status == "active", s.kind == "mail.cancellation")  # a cancelled seminar still says so
    query = sa.select(steps).join(events, e.id == s.event_id).where(ready, live).order_by(_when(), s.id)
    if event_id is not None:
        query = query.where(s.event_id == event_id)
    return list(conn.execute(query).mappings())


def next_due_at(conn: Connection) -> datetime | None:
    """When the next planned step of an active event is due (None when nothing is planned)."""
    s, e = steps.c, events.c
    query = (
        sa.select(sa.func.min(_when()))
        .select_from(steps.join(events, e.id == s.event_id))
        .where(s.state == "planned", sa.or_(e.status == "active", s.kind == "mail.cancellation"))
    )
    value = conn.execute(query).scalar()
    if value is not None and value.tzinfo is None:  # min() over the type decorator comes back raw
        value = value.replace(tzinfo=UTC)
    return value


_CLAIM_STEP = (
    steps.update()
    .where(
        steps.c.id == sa.bindparam("p_id"),
        sa.or_(
            steps.c.state == "planned",
            sa.and_(steps.c.state == "running", steps.c.lease_until < sa.bindparam("p_now", type_=UTCDateTime)),
        ),
    )
    .values(
        state="running",
        lease_owner=sa.bindparam("p_owner"),
        lease_until=sa.bindparam("p_until"),
        started_at=sa.bindparam("p_now"),
        attempts=steps.c.attempts + 1,
        updated_at=sa.bindparam("p_now"),
    )
)
_GET_STEP = sa.select(steps).where(steps.c.event_id == sa.bindparam("p_event_id"), steps.c.key == sa.bindparam("p_key"))


def claim_step(conn: Connection, step_id: int, owner: str, now: datetime, until: datetime) -> bool:
    """Take a step for this runner: one conditional UPDATE, so that of several runners one wins."""
    values = {"p_id": step_id, "p_owner": owner, "p_until": until, "p_now": now}
    return conn.execute(_CLAIM_STEP, values).rowcount == 1


def get_step(conn: Connection, event_id: str, key: str) -> sa.RowMapping | None:
    return conn.execute(_GET_STEP, {"p_event_id": event_id, "p_key": key}).mappings().first()


def forget_zoom_registrations(conn: Connection, event_id: str, now: datetime) -> None:
    """The meeting is gone: its registrant ids and personal links mean nothing any more."""
    conn.execute(
        registrants.update()
        .where(registrants.c.event_id == event_id)
        .values(zoom_registrant_id=None, join_url=None, zoom_status=None, updated_at=now)
    )


def list_job_files(conn: Connection) -> list[sa.RowMapping]:
    return list(conn.execute(sa.select(job_files).order_by(job_files.c.path)).mappings())


def get_job_file(conn: Connection, path: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(job_files).where(job_files.c.path == path)).mappings().first()


def record_job_file(conn: Connection, values: dict, now: datetime) -> None:
    """Remember what a job file (and its CSV) looked like when it was applied."""
    row = {**values, "applied_at": now}
    conn.execute(
        _upsert_insert(conn, job_files)
        .values(**row)
        .on_conflict_do_update(index_elements=["path"], set_={k: v for k, v in row.items() if k != "path"})
    )


def forget_job_file(conn: Connection, path: str) -> None:
    conn.execute(job_files.delete().where(job_files.c.path == path))


def replan_step(conn: Connection, event_id: str, key: str, now: datetime, reason: str) -> bool:
    """Put a step that has run back to `planned`, due now (e.g. the registrant sync after the CSV changed)."""
    s = steps.c
    return (
        conn.execute(
            steps.update()
            .where(s.event_id == event_id, s.key == key, s.state.in_(("done", "failed")))
            .values(
                state="planned",
                retry_at=now,
                last_error=reason,
                lease_owner=None,
                lease_until=None,
                alerted_at=None,
                updated_at=now,
            )
        ).rowcount
        == 1
    )


def store_recording(
    conn: Connection, event_id: str, url: str, passcode: str, now: datetime, *, replace: bool = False
) -> bool:
    """Keep the meeting's cloud recording link (and the passcode people type); False when one was stored
    already (by another runner) and `replace` is not asked, or the event has no meeting row."""
    m = zoom_meetings.c
    statement = zoom_meetings.update().where(m.event_id == event_id)
    if not replace:
        statement = statement.where(m.recording_url.is_(None))
    values = {"recording_url": url, "recording_passcode": passcode, "recording_fetched_at": now, "updated_at": now}
    return conn.execute(statement.values(**values)).rowcount == 1
