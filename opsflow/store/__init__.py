"""The only database module: tables, schema revisions, transactions and queries (SQLAlchemy Core).

Modules: `engine` (open_store, Store: transactions, migrate), `schema` (the tables), `queries` (one small
function each), `migrations` (the schema's version and the bridge to Alembic, whose revisions live in the folder
`alembic/versions`). Use `open_store(url)` for a migrated `Store`, its `begin()` / `read()` transactions, and the
query functions (`from opsflow import store as db; db.list_steps(conn, ...)`). Names are loaded on first use, so
that importing the package costs nothing until the database is used. (`opsflow.cli.quick` answers cron's "is
anything due?" on SQLite with the standard library alone.)
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = ("queries", "engine", "schema", "migrations")


def __getattr__(name: str) -> Any:
    for module_name in _MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        if hasattr(module, name):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
