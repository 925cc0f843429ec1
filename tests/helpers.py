"""Small builders for request bodies used across the API tests."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from filrouge.db import create_db_engine

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # all test dates are in the past


def inbound(
    channel_id: int, sender: str, text: str = "Bonjour", kind: str = "email", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel_id": channel_id,
        "sender": {
            "kind": kind,
            "value": sender,
            "verified": extra.pop("verified", False),
            "name": extra.pop("name", None),
        },
        "text": text,
    }
    body.update(extra)
    return body


def receive(admin: Any, channel_id: int, sender: str, hours: float = 0, **extra: Any) -> Any:
    """POST one inbound message, ``hours`` after T0; it must be accepted as new."""
    body = inbound(
        channel_id, sender, occurred_at=(T0 + timedelta(hours=hours)).isoformat(), **extra
    )
    response = admin.post("/api/v1/inbound", json=body)
    assert response.status_code == 201, response.text
    return response.json()


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A folder of ../shared/data (real material nobody here wrote); skips the test, with the
    reason, on a clone without it. CI always has it (and never skips: see .ci/run)."""
    folder = SHARED_DATA.joinpath(*parts)
    if not folder.exists():
        reason = f"{folder} is absent: the shared real-world fixtures are not on this machine"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


def shared_mail_files() -> list[Path]:
    """Every whole mail under ../shared/data/email (the crisp-* folders hold bodies only)."""
    root = shared_data("email")
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and not path.relative_to(root).parts[0].startswith("crisp-")
        and not path.name.startswith(".")
        and path.name.lower() not in {"readme", "readme.md", "license"}
    )


def conversations(admin: Any) -> list[dict[str, Any]]:
    """The inbox's conversations, newest activity first (up to 100)."""
    found: list[dict[str, Any]] = admin.get("/api/v1/conversations?limit=100").json()["items"]
    return found


def thread(admin: Any, conversation_id: int) -> list[dict[str, Any]]:
    """The messages of one conversation, in order."""
    found: list[dict[str, Any]] = admin.get(f"/api/v1/conversations/{conversation_id}").json()[
        "messages"
    ]
    return found


def meta_signature(body: bytes, secret: str) -> str:
    """``X-Hub-Signature-256`` as Meta computes it: HMAC-SHA256 of the raw body, in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@contextmanager
def database_of_its_own(backend: str, tmp_path: Path, name: str) -> Iterator[Engine]:
    """An empty database no other test uses (SQLite file, or ``<test database>_<name>`` on
    PostgreSQL), to migrate from an old revision: the shared one stays at the latest."""
    if backend == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
        yield engine
        engine.dispose()
        return
    base = make_url(os.environ["FILROUGE_TEST_DATABASE_URL"])
    own = f"{base.database}_{name}"
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{own}"'))
        connection.execute(text(f'CREATE DATABASE "{own}"'))
    engine = create_db_engine(base.set(database=own).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{own}"'))
    server.dispose()
