"""Alembic migrations, shipped with the package and run by :func:`voiceclone.db.migrate`."""
