"""Alembic's environment: runs opsflow's revisions on the connection that `opsflow.store.migrations` hands over
(inside `Store.migrate()`'s transaction and lock). There is no alembic.ini and no offline (--sql) mode."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "opsflow's revisions run through Store.migrate() (opsflow.store.migrations), which passes the connection to use"
    )

context.configure(connection=connection, on_version_apply=context.config.attributes.get("on_version_apply"))
with context.begin_transaction():  # joins the transaction the connection is in
    context.run_migrations()
