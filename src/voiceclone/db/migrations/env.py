"""Alembic environment: configured programmatically by :func:`voiceclone.db.migrate.migrate`.

The caller passes an open connection in ``config.attributes["connection"]``; without one
(the ``alembic`` command line) the engine is made from ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context

from voiceclone.db.models import Base
from voiceclone.db.session import make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as new_connection:
        run_migrations(new_connection)
    engine.dispose()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
