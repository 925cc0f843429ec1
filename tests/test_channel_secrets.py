"""Channel credentials are stored encrypted: the database never holds a token in clear, while
the channel still works and admins see it masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from conftest import BACKENDS
from filrouge.core.models import ChannelAccount
from filrouge.db import make_session_factory
from filrouge.lib.crypto import PREFIX
from filrouge.schema import alembic_config, migrate
from helpers import database_of_its_own


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


@pytest.fixture(params=BACKENDS)
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own: migrations are run on it from an old revision, which
    the shared test database (at the latest revision) must never see."""
    with database_of_its_own(request.param, tmp_path, "migrations") as engine:
        yield engine


def test_it_encrypts_credentials_saved_in_clear_before_encryption_existed(unmigrated):
    config = alembic_config(unmigrated.url.render_as_string(hide_password=False))
    with unmigrated.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010")
    clear = json.dumps({"bot_token": "123:old-clear-token", "secret_token": "old-hook-secret"})
    with unmigrated.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspaces (id, name, settings, created_at) "
                "VALUES (1, 'Old', '{}', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO channel_accounts (id, workspace_id, kind, name, settings, active, "
                "created_at) VALUES (1, 1, 'telegram', 'Old bot', :settings, TRUE, "
                "CURRENT_TIMESTAMP)"
            ),
            {"settings": clear},
        )
    assert "old-clear-token" in raw_settings(unmigrated, 1)

    migrate(unmigrated)

    stored = raw_settings(unmigrated, 1)
    assert "old-clear-token" not in stored
    assert "old-hook-secret" not in stored
    assert stored.count(PREFIX) == 2
    with make_session_factory(unmigrated)() as session:
        settings = session.get_one(ChannelAccount, 1).settings
    assert settings == {"bot_token": "123:old-clear-token", "secret_token": "old-hook-secret"}
