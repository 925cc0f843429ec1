"""Channel credentials are stored encrypted: the database never holds a token in clear, while
the channel still works and admins see it masked."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from filrouge.core.models import ChannelAccount
from filrouge.lib.crypto import PREFIX
from filrouge.schema import alembic_config, migrate


def raw_settings(engine, channel_id: int) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT settings FROM channel_accounts WHERE id = :id"), {"id": channel_id}
            ).scalar_one()
        )


def test_it_never_stores_a_channel_secret_in_clear(admin, channel, engine, factory):
    created = channel(
        "telegram", bot_token="123:very-secret-bot", secret_token="hook-secret", name="Bot"
    )
    stored = raw_settings(engine, created["id"])
    assert "very-secret-bot" not in stored
    assert "hook-secret" not in stored
    assert PREFIX in stored
    with factory() as session:
        settings = session.get_one(ChannelAccount, created["id"]).settings
    assert settings["bot_token"] == "123:very-secret-bot"
    shown = admin.get(f"/api/v1/channels/{created['id']}").json()["settings"]
    assert shown["bot_token"] == "********"


def test_it_keeps_non_secret_settings_readable(channel, engine):
    created = channel("email", address="support@example.fr", smtp_password="hunter2-long")
    stored = raw_settings(engine, created["id"])
    assert "support@example.fr" in stored
    assert "hunter2-long" not in stored


def test_it_encrypts_credentials_saved_in_clear_before_encryption_existed(channel, engine, factory):
    created = channel("telegram", bot_token="123:old-clear-token", name="Old bot")
    clear = json.dumps({"bot_token": "123:old-clear-token", "secret_token": "old-hook-secret"})
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE channel_accounts SET settings = :settings WHERE id = :id"),
            {"settings": clear, "id": created["id"]},
        )
    assert "old-clear-token" in raw_settings(engine, created["id"])
    command.stamp(alembic_config(engine.url.render_as_string(hide_password=False)), "0010")

    migrate(engine)

    stored = raw_settings(engine, created["id"])
    assert "old-clear-token" not in stored
    assert "old-hook-secret" not in stored
    assert stored.count(PREFIX) == 2
    with factory() as session:
        settings = session.get_one(ChannelAccount, created["id"]).settings
    assert settings == {"bot_token": "123:old-clear-token", "secret_token": "old-hook-secret"}
