"""channel credentials saved before they were encrypted at rest are encrypted now

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from filrouge.lib.crypto import encrypt_secrets

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
channel_accounts = sa.table(
    "channel_accounts", sa.column("id", sa.BigInteger()), sa.column("settings", JSON)
)


def upgrade() -> None:
    """Every secret still in clear (``*_token``, ``*_secret``, ``*password``, ``*_key``) is
    encrypted under the installation key; secrets already encrypted are left as they are."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(channel_accounts.c.id, channel_accounts.c.settings))
    for channel_id, settings in rows.all():
        encrypted = encrypt_secrets(settings) if settings else settings
        if encrypted != settings:
            connection.execute(
                channel_accounts.update()
                .where(channel_accounts.c.id == channel_id)
                .values(settings=encrypted)
            )


def downgrade() -> None:
    """Nothing to undo: the code of revision 0010 already reads encrypted secrets."""
