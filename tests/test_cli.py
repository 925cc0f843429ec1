"""The ``filrouge`` command line, run as a user runs it: in a subprocess, on a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from filrouge.core.actions.users import user_for_token
from filrouge.core.models import Customer
from filrouge.db import make_session_factory, transaction
from live_server import seed_triage_model


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "filrouge.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(engine: Engine, tmp_path: Path) -> dict[str, str]:
    seed_triage_model(tmp_path / "var")  # a first mail would wait seconds for the training
    return {
        **os.environ,
        "FILROUGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FILROUGE_DATA_DIR": str(tmp_path / "var"),
    }


def test_it_creates_a_user_and_prints_a_token_as_the_last_line(cli_env, engine):
    created = run(
        [
            "user",
            "create",
            "--email",
            "Agent@Example.fr",
            "--password",
            "long enough pw",
            "--role",
            "agent",
        ],
        cli_env,
    )
    assert created.returncode == 0, created.stderr
    token = run(["token", "create", "--email", "agent@example.fr"], cli_env)
    assert token.returncode == 0, token.stderr
    last_line = token.stdout.strip().splitlines()[-1]
    with transaction(make_session_factory(engine)) as session:
        user = user_for_token(session, last_line)
        assert user is not None
        assert (user.email, user.role) == ("agent@example.fr", "agent")
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")


def test_it_explains_a_refusal_on_stderr_with_a_non_zero_exit(cli_env):
    short = run(
        ["user", "create", "--email", "a@example.fr", "--password", "short", "--role", "agent"],
        cli_env,
    )
    assert short.returncode == 1
    assert "error: The password needs at least 10 characters." in short.stderr
    unknown = run(["token", "create", "--email", "nobody@example.fr"], cli_env)
    assert unknown.returncode == 1
    assert "nobody@example.fr" in unknown.stderr
    role = run(
        ["user", "create", "--email", "a@example.fr", "--password", "x" * 12, "--role", "king"],
        cli_env,
    )
    assert role.returncode == 2
    assert "king" in role.stderr


def test_it_imports_and_exports_customers_as_csv(cli_env, engine, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text(
        "name,email,phone,city,vip\n"
        "Jeanne Martin,Jeanne@Example.fr,06 12 34 56 78,Lyon,oui\n"
        "Paul Durand,paul@example.fr,,Paris,\n"
        '"=HYPERLINK(""http://x"")",evil@example.fr,,,\n',
        encoding="utf-8",
    )
    first = run(["customers", "import", str(source)], cli_env)
    assert first.returncode == 0, first.stderr
    assert "3 lignes : 3 créés, 0 mis à jour, 0 inchangés, 0 refusées en " in first.stdout
    assert first.stderr == ""  # no progress bar when stderr is not a terminal
    source.write_text("name,email,city\nJeanne M.,jeanne@example.fr,Bordeaux\n", encoding="utf-8")
    second = run(["customers", "import", str(source)], cli_env)
    assert "1 lignes : 0 créés, 1 mis à jour, 0 inchangés" in second.stdout
    exported = run(["customers", "export"], cli_env)
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.strip().splitlines()
    assert lines[0] == "id,name,email,phone,city,vip"
    assert lines[1].endswith(
        ",Jeanne M.,jeanne@example.fr,+33612345678,Bordeaux,true"
    )  # typed: VIP
    assert lines[2].endswith(",Paul Durand,paul@example.fr,,Paris,")
    assert lines[3].endswith(',"\'=HYPERLINK(""http://x"")",evil@example.fr,,,')


def test_it_imports_the_good_rows_and_exits_1_with_a_report_of_the_rejected_ones(
    cli_env, engine, tmp_path
):
    source = tmp_path / "clients.csv"
    source.write_text("name,email,phone\nA,a@example.fr,\nB,b@example.fr,12\n", encoding="utf-8")
    result = run(["customers", "import", str(source), "--quiet"], cli_env)
    assert result.returncode == 1
    report = tmp_path / "clients.rejected.csv"
    assert f"2 lignes : 1 créés, 0 mis à jour, 0 inchangés, 1 refusées (voir {report})" in (
        result.stdout
    )
    assert report.read_text(encoding="utf-8").splitlines() == [
        "line,name,email,phone,reason",
        "3,B,b@example.fr,12,12 n'est pas un numéro de téléphone.",
    ]
    with transaction(make_session_factory(engine)) as session:
        assert [c.name for c in session.scalars(select(Customer))] == ["A"]


def test_it_refuses_an_unreadable_file_with_exit_2_and_imports_nothing(cli_env, engine, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,email\nHélène,helene@example.fr\n".encode("latin-1"))
    refused = run(["customers", "import", str(latin)], cli_env)
    assert refused.returncode == 2
    assert "latin.csv n'est pas du texte UTF-8 : ligne 2, octet 13 (0xe9)" in refused.stderr
    assert "iconv -f latin1 -t utf-8 latin.csv" in refused.stderr
    twice = tmp_path / "twice.csv"
    twice.write_text("name,email,name\nA,a@example.fr,B\n", encoding="utf-8")
    duplicated = run(["customers", "import", str(twice)], cli_env)
    assert duplicated.returncode == 2
    assert "la colonne name figure plusieurs fois" in duplicated.stderr
    with transaction(make_session_factory(engine)) as session:
        assert session.scalars(select(Customer)).all() == []
    assert not (tmp_path / "latin.rejected.csv").exists()


def test_it_refuses_to_work_on_an_unmigrated_database(tmp_path):
    env = {**os.environ, "FILROUGE_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"}
    result = run(["token", "create", "--email", "a@example.fr"], env)
    assert result.returncode == 1
    assert "filrouge migrate" in result.stderr
    migrated = run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    again = run(["token", "create", "--email", "a@example.fr"], env)
    assert "There is no user with email a@example.fr" in again.stderr


def test_it_receives_mail_with_filrouge_smtpd_and_says_when_imap_has_nothing_to_read(
    cli_env, engine, tmp_path
):
    import smtplib
    import socket
    import time

    from filrouge.core.actions.channels import create_channel
    from filrouge.core.actions.users import ensure_workspace
    from filrouge.core.audit import Actor
    from filrouge.core.models import Message

    nothing = run(["imap", "--once"], cli_env)
    assert nothing.returncode == 1
    assert "imap_host" in nothing.stderr
    with transaction(make_session_factory(engine)) as session:
        workspace = ensure_workspace(session, "Test")
        address = {"address": "support@example.test"}
        create_channel(session, workspace.id, "email", "Support", address, Actor.system())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "filrouge.cli", "smtpd", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline, "filrouge smtpd did not answer"
                time.sleep(0.2)
        with smtp:
            smtp.sendmail(
                "jeanne@example.test",
                ["support@example.test"],
                b"From: jeanne@example.test\r\nSubject: Bonjour\r\n"
                b"Message-ID: <cli@example.test>\r\n\r\nMa commande ?\r\n",
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
    with transaction(make_session_factory(engine)) as session:
        assert session.scalars(select(Message.text)).all() == ["Ma commande ?"]


def test_it_imports_orders_and_lists_the_refused_lines_without_dropping_the_others(
    cli_env, engine, tmp_path
):
    source = tmp_path / "commandes.csv"
    source.write_text(
        "number,ordered_at,amount,currency,channel,store,status,customer_email,customer_name,items\n"
        'ML-2026-004211,2026-11-20T10:15,"89,90",EUR,web,,shipped,jeanne@example.fr,Jeanne,'
        '"[{""name"": ""Lampe Arc"", ""quantity"": 1, ""unit_price"": ""89.90""}]"\n'
        "ML-2026-004212,2026-11-21,12.5,EUR,store,Lyon,delivered,paul@example.fr,Paul,\n"
        "ML-2026-004213,hier,10,EUR,web,,placed,paul@example.fr,Paul,\n"
        "ML-2026-004214,2026-11-22,10,EUR,drone,,placed,paul@example.fr,Paul,\n"
        "ML-2026-004211,2026-11-20,89.90,EUR,web,,shipped,jeanne@example.fr,Jeanne,\n",
        encoding="utf-8",
    )

    first = run(["orders", "import", str(source)], cli_env)

    assert first.returncode == 1
    assert "2 created, 0 updated, 0 unchanged, 3 refused" in first.stdout
    assert "line 4: ordered_at 'hier' is not a date" in first.stderr
    assert "line 5: channel must be one of" in first.stderr
    assert "line 6: Order ML-2026-004211 appears twice" in first.stderr
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT number, amount_minor, ordered_at FROM orders ORDER BY number")
        ).all()
    assert [(n, a) for n, a, _ in stored] == [("ML-2026-004211", 8990), ("ML-2026-004212", 1250)]
    assert str(stored[0][2]).startswith("2026-11-20 09:15")  # Paris time, stored in UTC

    source.write_text("number,amount\nX-1,3\n", encoding="utf-8")
    missing = run(["orders", "import", str(source)], cli_env)
    assert missing.returncode == 1
    assert "the header lacks ordered_at" in missing.stderr
    source.write_bytes("number,ordered_at,amount\nCommandé-1234,2026-11-20,3\n".encode("cp1252"))
    latin = run(["orders", "import", str(source)], cli_env)
    assert latin.returncode == 1
    assert "not UTF-8 text" in latin.stderr
