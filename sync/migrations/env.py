"""Alembic environment for the state store.

At run time ``Store.migrate()`` builds the Config in code and hands over an open connection in
``config.attributes["connection"]`` (on PostgreSQL it already holds the migration advisory lock).
A developer may also run ``alembic`` against ``sqlalchemy.url`` for new revisions.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from sync.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


run_migrations()
