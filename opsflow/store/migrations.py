"""The schema's revisions, kept by Alembic in the folder `alembic/versions` ("0001".."0010"), and the bridge
from release 0.1, whose numbered migrations were recorded in the table `schema_migrations`.

Reading the version is a plain query; Alembic is imported only when a revision is to be applied (or a release
0.1 database stamped), so that opening an up-to-date database costs no more than before.
Revisions go forward only. To add one: `opsflow.store.migrations.new_revision("what it adds")`, fill in its
`upgrade()` with `op.*` (never importing `opsflow.store.schema`), change `schema`, and raise `HEAD`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = 10  # the newest revision in alembic/versions; tests/test_migrations.py checks that Alembic agrees
SCRIPTS = Path(__file__).resolve().parent / "alembic"

# Release 0.1's record of its migrations, read once to stamp the matching revision; left in place afterwards.
schema_migrations = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)
alembic_version = sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True))
_ALEMBIC = threading.Lock()  # Alembic's `context` and `op` are process-wide: one run at a time per process


def revision_id(version: int) -> str:
    """The Alembic revision id of a version number: 8 -> "0008"."""
    return f"{version:04d}"


def stored_version(conn: Connection) -> tuple[int | str, bool]:
    """(version, is_alembic): the revision in `alembic_version` as a number (as text when it is not one), else
    release 0.1's highest migration in `schema_migrations`, else 0 for a new database."""
    inspector = sa.inspect(conn)
    if inspector.has_table(alembic_version.name):
        revisions = conn.execute(sa.select(alembic_version.c.version_num)).scalars().all()
        if not revisions:
            return 0, True
        if not all(r.isdigit() for r in revisions):
            return ", ".join(sorted(revisions)), True
        return max(int(r) for r in revisions), True
    if inspector.has_table(schema_migrations.name):
        return conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0, False
    return 0, False


def upgrade(conn: Connection, version: int, is_alembic: bool, target: int = HEAD) -> list[int]:
    """Bring the database on `conn` from `version` to `target` in the transaction `conn` is in; return the
    versions applied. A release 0.1 database (not `is_alembic`) is first stamped with the revision matching its
    last migration."""
    from alembic import command

    applied: list[int] = []

    def record(*, step: Any, **_: Any) -> None:
        if step.is_upgrade and not step.is_stamp:
            applied.extend(int(r) for r in step.up_revision_ids)

    config = alembic_config(conn, on_version_apply=record)
    with _ALEMBIC:
        if not is_alembic and version > 0:
            command.stamp(config, revision_id(version))
        if target > version:
            command.upgrade(config, revision_id(target))
    return applied


def alembic_config(conn: Connection | None = None, **attributes: Any) -> Config:
    """Alembic's configuration for opsflow's revisions (no alembic.ini); `conn` is where they run."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes.update(attributes, connection=conn)
    return config


def new_revision(message: str) -> Path:
    """Write the file of the next revision (HEAD + 1) into alembic/versions; return its path (for developers)."""
    from alembic import command

    script = command.revision(alembic_config(), message, rev_id=revision_id(HEAD + 1))
    return Path(script.path)  # type: ignore[union-attr]  # one script for one revision
