"""Fixtures: every database test runs on SQLite, and again on PostgreSQL when
``FILROUGE_TEST_DATABASE_URL`` is set. Each test gets an empty, migrated database."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions import users
from filrouge.core.actions.users import create_token, create_user, ensure_workspace
from filrouge.core.models import Base, User
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.jobs.queue import huey
from filrouge.schema import migrate
from filrouge.settings import Settings
from filrouge.web.app import create_app
from live_server import seed_triage_model, share_triage_model_in


def _own_database_of_worker() -> None:
    """Under pytest-xdist (``make test`` runs two workers), each worker gets its own PostgreSQL
    database (``test`` → ``test_gw1``, created when missing) and its own Redis database number,
    since the fixtures empty them between tests. Run before any test module reads the variables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    index = int(worker[2:])
    pg_url = os.environ.get("FILROUGE_TEST_DATABASE_URL")
    if pg_url:
        base = make_url(pg_url)
        own = base.set(database=f"{base.database}_{worker}")
        _create_database_if_missing(base, own.database or "")
        os.environ["FILROUGE_TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    redis_url = os.environ.get("FILROUGE_TEST_REDIS_URL")
    if redis_url:
        head, _, number = redis_url.rpartition("/")
        if number.isdigit():
            os.environ["FILROUGE_TEST_REDIS_URL"] = f"{head}/{max(int(number) - index, 0)}"


def _create_database_if_missing(base: URL, name: str) -> None:
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # in CI a missing service fails the run, it never skips
        pytest.exit(f"PostgreSQL at {base} is not reachable: {exc}", returncode=1)
    finally:
        engine.dispose()


_own_database_of_worker()
PG_URL = os.environ.get("FILROUGE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

os.environ.setdefault("FILROUGE_HTTP_ALLOW_PRIVATE", "1")  # fake providers on 127.0.0.1
# ... and nothing else: a URL in a real payload (a provider's CDN) is never fetched by a test.
os.environ.setdefault("FILROUGE_HTTP_LOOPBACK_ONLY", "1")
# One installation key for the tests and the servers they start: channel secrets are stored
# encrypted under it, and every process must read them back.
os.environ.setdefault("FILROUGE_SECRET_KEY", "test-installation-key-0123456789abcdef")
huey.immediate = True  # in-process tests run their jobs at once, in memory
# Passwords are still argon2id hashes, checked as in production, but at the lowest cost the
# algorithm allows (as Django's test settings do): the recommended cost (~0.2 s a hash, as
# much to check one) was paid for every user a test creates and every sign-in. The servers and
# commands the tests start as subprocesses keep the real cost.
users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def _one_triage_model_per_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The triage model is trained once per test run (seconds), in a folder every worker of
    the run shares (their temporary folders' parent), and linked into each data directory."""
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    share_triage_model_in(shared / "triage-model")


@pytest.fixture(autouse=True)
def _empty_schedule() -> None:
    """Retries planned by an earlier test (in memory) never leak into the next one."""
    huey.storage.flush_schedule()


def pytest_report_header() -> list[str]:
    return [f"filrouge database backends: {', '.join(BACKENDS)}"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    assert PG_URL, "FILROUGE_TEST_DATABASE_URL is not set"
    engine = create_db_engine(PG_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # in CI a missing service fails the run, it never skips
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}", pytrace=False)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "filrouge.db"
        shutil.copyfile(template, path)
        sqlite = create_db_engine(f"sqlite:///{path}")
        yield sqlite
        sqlite.dispose()
        return
    postgres: Engine = request.getfixturevalue("postgres_engine")
    _truncate_all(postgres)
    yield postgres


def _truncate_all(engine: Engine) -> None:
    """Empty every table, ids starting again from 1. TRUNCATE, not DELETE: a table emptied by
    DELETE hands its freed space to the next test's rows (autovacuum), and rows read without
    an ORDER BY then come back in another order than they were written (seen in CI)."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    seed_triage_model(tmp_path / "var")  # the first message would otherwise wait for training
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False), data_dir=tmp_path / "var"
    )


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    return create_app(settings, engine)


@dataclass
class Caller:
    """A test client acting as one user, with that user's bearer token."""

    client: TestClient
    user: User
    token: str

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_caller(client: TestClient, factory: sessionmaker[Session]) -> Callable[..., Caller]:
    def make(role: str = "admin", email: str | None = None, name: str | None = None) -> Caller:
        with transaction(factory) as session:
            workspace = ensure_workspace(session, "Test")
            user = create_user(
                session,
                workspace.id,
                email or f"{role}@example.test",
                "correct horse battery",
                role,
                name or f"{role.title()} Tester",
            )
            token = create_token(session, user)
        return Caller(client, user, token)

    return make


@pytest.fixture
def admin(make_caller: Callable[..., Caller]) -> Caller:
    return make_caller("admin", name="Camille Admin")


@pytest.fixture
def channel(admin: Caller) -> Callable[..., dict[str, Any]]:
    def create(kind: str = "api", name: str | None = None, **settings: Any) -> dict[str, Any]:
        response = admin.post(
            "/api/v1/channels", json={"kind": kind, "name": name or kind, "settings": settings}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return create


@dataclass
class Browser:
    """A signed-in browser session (cookie + the session's CSRF token)."""

    client: TestClient
    user: User
    csrf_token: str

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        form = {"csrf_token": self.csrf_token, **(data or {})}
        return self.client.post(url, data=form, **kwargs)


PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture
def make_browser(app: Any, make_caller: Callable[..., Caller]) -> Callable[..., Browser]:
    def make(role: str = "agent", email: str | None = None, name: str | None = None) -> Browser:
        caller = make_caller(role, email, name)
        client = TestClient(app, follow_redirects=False)
        signed_in = client.post("/login", data={"email": caller.user.email, "password": PASSWORD})
        assert signed_in.status_code == 303, signed_in.text
        page = client.get("/password")
        match = CSRF_META.search(page.text)
        assert match, page.text
        return Browser(client, caller.user, match.group(1))

    return make
