"""The database: migrations, the refusal to serve an unmigrated one, the append-only log."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from filrouge.core.audit import Actor, record_event
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.schema import DatabaseNotMigrated, current_revision, head_revision
from filrouge.settings import Settings
from filrouge.web.app import create_app


def test_it_refuses_to_start_on_an_unmigrated_database(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path}/new.db")
    with pytest.raises(DatabaseNotMigrated, match="Run `filrouge migrate` first"):
        create_app(Settings(database_url=str(engine.url), data_dir=tmp_path), engine)


def test_it_is_at_the_latest_revision_after_migrating(engine: Engine):
    assert current_revision(engine) == head_revision()


def test_it_uses_wal_and_foreign_keys_on_sqlite(engine: Engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("statement", ["UPDATE events SET action = 'forged'", "DELETE FROM events"])
def test_it_refuses_to_rewrite_the_event_log(engine: Engine, statement: str):
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        session.execute(
            text(
                "INSERT INTO workspaces (name, settings, created_at) "
                "VALUES ('W', '{}', CURRENT_TIMESTAMP)"
            )
        )
        record_event(session, 1, Actor.system(), ("customer", 1), "customer.created")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM events")).scalars().all() == [
            "customer.created"
        ]


def test_it_has_a_migration_for_every_model_change(engine: Engine):
    from alembic import command

    from filrouge.schema import alembic_config

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises when the models and the migrations differ


def test_it_checkpoints_the_write_ahead_log_in_the_background(tmp_path: Path):
    from filrouge.db import Checkpointer

    engine = create_db_engine(f"sqlite:///{tmp_path}/c.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
        for _ in range(200):
            connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * 1000})
    wal = tmp_path / "c.db-wal"
    before = wal.stat().st_size
    checkpointer = Checkpointer(engine, interval=0.05).start()
    try:
        with engine.connect() as connection:  # a reader must not stop it
            connection.execute(text("SELECT count(*) FROM t")).scalar()
        deadline = time.monotonic() + 10
        while (tmp_path / "c.db").stat().st_size < 150_000:
            assert time.monotonic() < deadline, "no checkpoint happened"
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert before > 150_000
    engine.dispose()
