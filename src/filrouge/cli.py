"""The ``filrouge`` command line. Errors are one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from filrouge.core.errors import DomainError
from filrouge.db import create_db_engine, make_session_factory, start_checkpointer, transaction
from filrouge.schema import DatabaseNotMigrated, check_migrated, migrate
from filrouge.settings import get_settings
from filrouge.triage.commands import triage

GC_YOUNG_THRESHOLD = 10_000  # allocations between two collections of young objects (serve)


@contextmanager
def _session() -> Iterator[Session]:
    engine = create_db_engine(get_settings().database_url)
    try:
        check_migrated(engine)
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _check_database() -> None:
    """Refuse to start on a database that is not migrated to this version."""
    engine = create_db_engine(get_settings().database_url)
    try:
        check_migrated(engine)
    finally:
        engine.dispose()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            _fail(str(exc))
        except DatabaseNotMigrated as exc:
            _fail(str(exc))
        return None


@click.group(cls=_Group)
@click.version_option(package_name="filrouge")
def main() -> None:
    """Filrouge: one inbox, one thread per customer, every channel."""


@main.command(name="migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema."""
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    click.echo(f"database migrated: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Also run the background worker in this process.",
)
def serve(host: str, port: int, worker: bool) -> None:
    """Serve the web app and the API."""
    import gc

    import uvicorn

    from filrouge.jobs.queue import huey
    from filrouge.web.app import create_app

    app = create_app()
    _warm_triage()
    consumer = huey.create_consumer(workers=2, worker_type="thread") if worker else None
    if consumer is not None:
        consumer.start()
    click.echo(f"Filrouge on http://{host}:{port}  (API docs: /api/v1/docs)")
    # What was loaded to start is kept for good, so the collector's full passes skip it (they
    # took ~200 ms with every request waiting), and young objects are collected every 10,000
    # allocations rather than 700 (docs/PERFORMANCE.md, "Provider webhooks").
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=get_settings().log_level.lower(),
            timeout_graceful_shutdown=3,  # open event streams never end by themselves
        )
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


def _warm_triage() -> None:
    """Load (the first time: train, seconds) the triage model in the background, so the first
    messages do not wait for it (they wait only if they come while it trains)."""
    import threading

    from filrouge.triage.service import warm_up

    settings = get_settings()
    threading.Thread(
        target=warm_up,
        args=(settings.data_dir, settings.languages),
        name="triage-warm-up",
        daemon=True,
    ).start()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
def smtpd(host: str, port: int) -> None:
    """Receive mail by SMTP for the email channels (each recipient: a channel's address)."""
    import threading

    from filrouge.channels.email.smtpd import start_smtpd

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    check_migrated(engine)
    try:
        controller = start_smtpd(make_session_factory(engine), settings, host, port)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    checkpointer = start_checkpointer(engine)  # SQLite: no checkpoint inside a mail's commit
    click.echo(f"Filrouge SMTP on {host}:{port}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        if checkpointer is not None:
            checkpointer.stop()
        engine.dispose()


@main.command()
@click.option("--once", is_flag=True, help="Read each mailbox once, then exit (for cron).")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between polls.")
def imap(once: bool, interval: float) -> None:
    """Read the IMAP mailboxes of the email channels (IDLE where the server offers it)."""
    import imaplib
    import threading

    from imap_tools.errors import ImapToolsError

    from filrouge.channels.email.imap import (
        imap_accounts,
        open_mailbox,
        poll_mailbox,
        storer,
        watch_mailbox,
    )
    from filrouge.channels.email.inbound import max_mail_bytes

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    check_migrated(engine)
    factory = make_session_factory(engine)
    accounts = imap_accounts(factory)
    if not accounts:
        _fail("no active email channel has an imap_host in its settings")
    if once:
        for account in accounts:
            try:
                with open_mailbox(account) as mailbox:
                    store = storer(factory, settings, account.channel_id)
                    count = poll_mailbox(mailbox, account, store, max_mail_bytes(settings))
            except (ImapToolsError, imaplib.IMAP4.error, OSError) as exc:
                _fail(f"channel {account.channel_id}: cannot read {account.host}: {exc}")
            click.echo(f"channel {account.channel_id}: {count} new mail(s)")
        return
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=watch_mailbox, args=(factory, settings, account, stop, interval), daemon=True
        )
        for account in accounts
    ]
    for thread in threads:
        thread.start()
    checkpointer = start_checkpointer(engine)
    click.echo(f"reading {len(accounts)} mailbox(es); Ctrl-C to stop")
    try:
        stop.wait()
    except KeyboardInterrupt:
        stop.set()
    finally:
        if checkpointer is not None:
            checkpointer.stop()


@main.command()
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve the worker's own /metrics (Prometheus) on 127.0.0.1 at this port.",
)
def worker(workers: int, metrics_port: int | None) -> None:
    """Run the background worker alone (deliveries, callbacks, webhooks, sweeps)."""
    from filrouge.jobs import (
        automation,  # its tasks: rules after each burst of events, no_reply sweeps
        callbacks,  # noqa: F401 - its tasks: calls to place, missed ones
        deliveries,
        duplicates,  # noqa: F401 - its task: suggested duplicates kept up to date
        retention,  # noqa: F401 - its task: the retention policy, every night
        routing,  # its tasks: re-routing when agents go offline, the teams' queues
        sla,
        surveys,  # noqa: F401 - its tasks: satisfaction asked, lost ones swept
        webhooks,  # noqa: F401 - its tasks: stored provider deliveries to read
    )
    from filrouge.jobs.queue import huey

    _check_database()
    deliveries.install()
    automation.install()
    if metrics_port is not None:
        _serve_worker_metrics(metrics_port)
    sla.install()
    routing.install()
    huey.create_consumer(workers=workers, worker_type="thread").run()


def _serve_worker_metrics(port: int) -> None:
    """The messages this worker reads and the replies it sends, counted for Prometheus."""
    from prometheus_client import start_http_server

    from filrouge.web.metrics import Metrics

    metrics = Metrics(make_session_factory(create_db_engine(get_settings().database_url)))
    metrics.listen()
    start_http_server(port, addr="127.0.0.1", registry=metrics.registry)


@main.command()
@click.option("--seed", default=20261123, show_default=True, type=int)
@click.option("--customers", "customer_count", default=2000, show_default=True, type=int)
@click.option("--conversations", "conversation_count", default=10000, show_default=True, type=int)
def demo(seed: int, customer_count: int, conversation_count: int) -> None:
    """Load the demo data (a French retailer); prints the admin login and an API token."""
    from filrouge.core.actions.triage_backfill import backfill_triage
    from filrouge.demo.loader import load_demo

    with _session() as session:
        summary = load_demo(session, seed, customer_count, conversation_count)
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    try:  # the demo's messages are written directly: triaged afterwards, as a backfill
        backfill_triage(make_session_factory(engine), settings.data_dir, settings.languages)
    finally:
        engine.dispose()
    for line in summary:
        click.echo(line)


@main.group()
def user() -> None:
    """Manage users."""


@user.command(name="create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "supervisor", "agent", "contributor"])
)
@click.option("--name", default=None)
@click.option("--expertise", default="", help="Contributors: tags they answer, comma-separated.")
@click.option("--trusted", is_flag=True, help="Contributors: replies go out without approval.")
def user_create(
    email: str, password: str, role: str, name: str | None, expertise: str, trusted: bool
) -> None:
    """Create a user with an argon2id-hashed password."""
    from filrouge.core.actions.conversations import normalise_tag
    from filrouge.core.actions.users import create_user, ensure_workspace

    with _session() as session:
        workspace = ensure_workspace(session, get_settings().workspace_name)
        created = create_user(session, workspace.id, email, password, role, name)
        created.expertise = sorted({normalise_tag(t) for t in expertise.split(",") if t.strip()})
        created.trusted = trusted
        click.echo(f"user {created.email} created with role {created.role}")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command(name="create")
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
def token_create(email: str, name: str) -> None:
    """Create an API token for a user; the token is the last line printed."""
    from filrouge.core.actions.users import create_token, find_user_by_email

    with _session() as session:
        value = create_token(session, find_user_by_email(session, email), name)
    click.echo("Keep this token secret; it is shown only once:")
    click.echo(value)


@main.group()
def customers() -> None:
    """Import and export customers."""


@customers.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the rejected rows (default: FILE.rejected.csv, when there are some).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def customers_import(path: Path, rejected_path: Path | None, quiet: bool) -> None:
    """Import customers from CSV: name, email, phone, and any attribute columns.

    A row whose email or phone is known updates that customer; importing the same file again
    changes nothing. A row that cannot be imported (invalid email or phone, a name too long,
    the wrong number of fields, an email and a phone of two different customers) is written
    with its line and the reason to the rejected rows' report, and the import goes on.

    Exit status: 0 when every row was imported, 1 when some rows were rejected, 2 when the
    file cannot be read at all (not UTF-8, no header, no name/email/phone column, a column
    twice, empty): then nothing is imported."""
    from filrouge.cli_import import run_customer_import

    run_customer_import(path, rejected_path, quiet=quiet)


@customers.command(name="export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
def customers_export(output: Path | None) -> None:
    """Export customers as CSV (stdout by default)."""
    from filrouge.core.customer_csv import export_customers

    with _session() as session:
        if output is None:
            export_customers(session, sys.stdout)
            return
        with output.open("w", newline="", encoding="utf-8") as handle:
            count = export_customers(session, handle)
    click.echo(f"{count} customers written to {output}", err=True)


@main.group()
def orders() -> None:
    """Import orders and purchases."""


@orders.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--timezone",
    "zone_name",
    default="Europe/Paris",
    show_default=True,
    help="The time zone of dates written without one.",
)
def orders_import(path: Path, zone_name: str) -> None:
    """Import orders from CSV: number, ordered_at, amount, and optionally currency, channel,
    store, status, items (JSON), customer_id / customer_email / customer_phone, customer_name.
    Rows that are refused are listed with their line; the others are imported."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from filrouge.core.actions.users import ensure_workspace
    from filrouge.core.order_csv import OrderCsvError, import_order_csv

    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"{zone_name} is not a time zone")
        return
    settings = get_settings()
    with _session() as session:
        workspace = ensure_workspace(session, settings.workspace_name)
        try:
            report = import_order_csv(session, workspace.id, path, settings.default_region, zone)
        except OrderCsvError as exc:
            _fail(str(exc))
            return
    click.echo(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} refused from {path}"
    )
    for line, reason in report.rejected:
        click.echo(f"line {line}: {reason}", err=True)
    if report.rejected:
        sys.exit(1)


@main.group()
def retention() -> None:
    """The retention policy: closed conversations anonymised after some months."""


@retention.command(name="set")
@click.argument("months")
def retention_set(months: str) -> None:
    """Keep closed conversations MONTHS months (a number), or forever (`off`)."""
    from filrouge.core.actions.users import ensure_workspace
    from filrouge.core.audit import Actor
    from filrouge.core.retention import set_retention

    kept = None if months == "off" else int(months) if months.isdigit() else 0
    with _session() as session:
        workspace = ensure_workspace(session, get_settings().workspace_name)
        set_retention(session, workspace, kept, Actor.system())
    click.echo("closed conversations kept forever" if kept is None else f"kept {kept} months")


@retention.command(name="run")
def retention_run() -> None:
    """Apply the policy now (the worker does it every night)."""
    from filrouge.core.actions.users import ensure_workspace
    from filrouge.core.blobs import BlobStore
    from filrouge.core.retention import apply_retention

    settings = get_settings()
    with _session() as session:
        workspace = ensure_workspace(session, settings.workspace_name)
        report = apply_retention(session, workspace, BlobStore(settings.attachments_dir))
    if report is None:
        click.echo("no retention policy: `filrouge retention set MONTHS` first")
        return
    click.echo(f"{report.conversations} conversations, {report.messages} messages anonymised")


main.add_command(triage)


@main.group()
def reports() -> None:
    """The reports' facts, kept by the database as conversations change."""


@reports.command(name="rebuild")
def reports_rebuild() -> None:
    """Write every conversation's report facts again from the tables."""
    from filrouge.core.indicators.facts import rebuild_report_facts

    with _session() as session:
        count = rebuild_report_facts(session)
    click.echo(f"{count} conversations in the reports' facts")


@reports.command(name="check")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 731))
def reports_check(days: int) -> None:
    """Compare each workspace's channel report over the last DAYS days, read from the facts,
    with the same report computed from the raw tables; exit 1 when they differ."""
    from filrouge.core.indicators.checks import reports_differ

    with _session() as session:
        differences = reports_differ(session, days)
    for line in differences:
        click.echo(line, err=True)
    if differences:
        _fail("The reports' facts differ from the tables: run `filrouge reports rebuild`.")
    click.echo("The reports' facts agree with the tables.")


if __name__ == "__main__":
    main()
