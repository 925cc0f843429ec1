"""Alembic migrations. Apply with ``filrouge migrate``; see ``filrouge.schema``."""
