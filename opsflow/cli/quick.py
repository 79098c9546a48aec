"""The cron fast path: is there anything to do? Answered before the CLI, the settings or SQLAlchemy load.

`opsflow run-due` starts every minute; loading the CLI, the settings and SQLAlchemy costs far more
than the answer. This module reads only OPSFLOW_DATABASE_URL and OPSFLOW_JOBS_DIR (the environment,
then `.env` through python-dotenv's reader, as `opsflow.core.config` does), asks the database directly
whether a step is due (SQLite through `sqlite3`, PostgreSQL through psycopg alone), and looks at the job
files' modification times (a changed job file or CSV is applied again by the ordinary path). It answers
True, False or None ("cannot tell": another driver or URL form, an unreadable `.env`, a new database or
one whose schema is not this version's, an option it does not know); on None the ordinary path runs.
What `run-due` prints when nothing is due is `run_due_output([])`, which the ordinary path prints too.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

DEFAULT_URL = "sqlite:///opsflow.db"
DEFAULT_JOBS_DIR = "jobs"
# The schema revision these queries are written for (tests/test_quick.py checks it is the store's head):
# on any other the ordinary path runs, and migrates.
SCHEMA = "0010"
VERSION = "SELECT version_num FROM alembic_version"
DUE = """
SELECT 1 FROM steps s JOIN events e ON e.id = s.event_id
WHERE (e.status = 'active' OR s.kind = 'mail.cancellation')
  AND ((s.state = 'planned' AND COALESCE(s.retry_at, s.due_at) <= {p}) OR (s.state = 'running' AND s.lease_until < {p}))
LIMIT 1
"""
JOB_FILES = "SELECT path, mtime_ns, size, csv_path, csv_mtime_ns, csv_size FROM job_files"
POSTGRES_SCHEME = "postgresql+psycopg://"
CONNECT_TIMEOUT = "10"  # seconds, unless the URL sets connect_timeout
# SQLAlchemy's own pattern for a URL (sqlalchemy.engine.url._parse_url), so that the quick path connects
# where the ordinary path would
URL_PATTERN = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)


def json_text(data: Any) -> str:
    """JSON as every `--json` prints it (`opsflow.cli.common.print_json` writes this text)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def run_due_output(results: list[dict[str, Any]], *, as_json: bool) -> str:
    """What `run-due --json` prints for these results (`StepResult.as_dict()`); without `--json`, what it
    prints when there are none (nothing: each result is a line of its own, printed by the ordinary path)."""
    if as_json:
        return json_text(results) + "\n"
    if results:
        raise ValueError("the ordinary path prints step lines itself")
    return ""


def setting(name: str, default: str, environ=None, dotenv_path: str = ".env") -> str | None:
    """The setting `name` as `opsflow.core.config` reads it: the environment, then `.env` read by
    python-dotenv's own reader (the same rules, at a fraction of the CLI's start-up cost); None when
    `.env` cannot be read (the ordinary path then explains)."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if value:
        return value
    if not os.path.isfile(dotenv_path):
        return default
    from dotenv.main import dotenv_values

    try:
        values = dotenv_values(dotenv_path, encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return (values.get(name) or "").strip() or default


def database_url(environ=None, dotenv_path: str = ".env") -> str | None:
    """OPSFLOW_DATABASE_URL as `opsflow.core.config` would read it, or None when `.env` is not plain."""
    return setting("OPSFLOW_DATABASE_URL", DEFAULT_URL, environ, dotenv_path)


def has_due_steps(url: str, now: datetime, jobs_dir: str | None = None) -> bool | None:
    """True or False for a SQLite file or a PostgreSQL server (psycopg) at `url`; None for anything else
    or any doubt. With `jobs_dir`, a job file there that is new or changed since applied counts as due."""
    if url.startswith("sqlite:///"):
        return _sqlite_due(url, now, jobs_dir)
    if url.startswith(POSTGRES_SCHEME):
        return _postgres_due(url, now, jobs_dir)
    return None


def _sqlite_due(url: str, now: datetime, jobs_dir: str | None) -> bool | None:
    import sqlite3

    if "?" in url or "%" in url:
        return None
    path = url[len("sqlite:///") :]
    if not os.path.isfile(path):
        return None  # a new database: the ordinary path creates and migrates it
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores times in SQLite
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return _answer(conn.execute, DUE.format(p="?"), (stamp, stamp), jobs_dir)
        finally:
            conn.close()
    except sqlite3.Error:  # an older schema, a locked or broken file: let the ordinary path explain
        return None


def postgres_connect_args(url: str) -> dict[str, Any] | None:
    """psycopg's connection arguments for a `postgresql+psycopg://` URL, the same as SQLAlchemy's psycopg
    dialect passes (user, password, host, port, dbname, then the query's parameters); None for a URL
    this reading might get wrong (several hosts, a parameter given twice, anything unparsable)."""
    match = URL_PATTERN.fullmatch(url)
    if match is None or match["name"] != POSTGRES_SCHEME[:-3]:
        return None
    args: dict[str, Any] = {}
    for group, name in (("username", "user"), ("password", "password"), ("database", "dbname")):
        if match[group]:
            args[name] = unquote(match[group])
    host = match["ipv4host"] or match["ipv6host"]
    if host:
        args["host"] = host
    if match["port"]:
        if not match["port"].isdigit():
            return None
        args["port"] = int(match["port"])
    pairs = parse_qsl(match["query"] or "")
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys) or "host" in keys or "port" in keys:
        return None
    args.update(pairs)
    return args


def _postgres_due(url: str, now: datetime, jobs_dir: str | None) -> bool | None:
    args = postgres_connect_args(url)
    if args is None:
        return None
    try:
        import psycopg
    except ImportError:
        return None  # the ordinary path says how to install the driver
    moment = now.astimezone(UTC).replace(tzinfo=None)  # times are stored as naive UTC
    args.setdefault("connect_timeout", CONNECT_TIMEOUT)  # a host that never answers: the ordinary path says so
    try:
        with psycopg.connect(**args, autocommit=True) as conn:
            return _answer(conn.execute, DUE.format(p="%s"), (moment, moment), jobs_dir)
    except (psycopg.Error, ValueError, TypeError):  # down, refused, an odd parameter: the ordinary path explains
        return None


def _answer(execute, due: str, params: tuple, jobs_dir: str | None) -> bool | None:
    """The answer on an open connection (`execute` as sqlite3's and psycopg's `Connection.execute`)."""
    version = execute(VERSION).fetchall()
    if version != [(SCHEMA,)]:
        return None
    if execute(due, params).fetchone() is not None:
        return True
    return jobs_dir is not None and _files_changed(execute(JOB_FILES).fetchall(), jobs_dir)


def _files_changed(rows: list[tuple], jobs_dir: str) -> bool:
    recorded = {row[0]: row for row in rows}
    try:
        names = [n for n in os.listdir(jobs_dir) if n.endswith(".toml")]
    except OSError:
        names = []
    for name in names:
        row = recorded.get(os.path.realpath(os.path.join(jobs_dir, name)))
        if row is None or _stat(row[0]) != (row[1], row[2]) or (row[3] and _stat(row[3]) != (row[4], row[5])):
            return True
    return False


def _stat(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def run_due_options(args: list[str]) -> dict[str, Any] | None:
    """The options of `opsflow run-due ARGS` (`now`, `as_json`, `dry_run`), or None when ARGS hold anything
    the quick path does not answer for (help, a repeated or unknown option, a time without an offset)."""
    options: dict[str, Any] = {"now": None, "as_json": False, "dry_run": False}
    seen: set[str] = set()
    rest = list(args)
    while rest:
        name, equals, value = rest.pop(0).partition("=")
        if name in seen or (equals and not value):
            return None
        seen.add(name)
        if name in ("--json", "--dry-run"):
            if equals:
                return None
            options["as_json" if name == "--json" else "dry_run"] = True
            continue
        if name not in ("--now", "--log-format"):
            return None
        if not value:
            if not rest:
                return None
            value = rest.pop(0)
        if name == "--log-format" and value not in ("text", "json"):
            return None
        if name == "--now":
            options["now"] = _moment(value)
            if options["now"] is None:
                return None
    return options


def _moment(text: str) -> datetime | None:
    """`--now` as `opsflow.cli.common.now` reads it; None when that would refuse it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def nothing_due_output(args: list[str]) -> str | None:
    """What `opsflow run-due ARGS` prints when nothing is due and no job file changed (often nothing), or
    None: the ordinary path must run. `--dry-run` lists what would run: with nothing due, nothing."""
    options = run_due_options(args)
    if options is None:
        return None
    url = database_url()
    jobs_dir = setting("OPSFLOW_JOBS_DIR", DEFAULT_JOBS_DIR)
    if url is None or jobs_dir is None:
        return None
    if has_due_steps(url, options["now"] or datetime.now(UTC), jobs_dir) is not False:
        return None
    return run_due_output([], as_json=options["as_json"])
