"""Reading mailboxes by IMAP, against a real Dovecot on loopback: each mail stored once,
marked only after it is stored, never lost across a restart, and taken at once by IDLE."""

from __future__ import annotations

import imaplib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from filrouge.channels.email.imap import (
    REFUSED,
    STORED,
    ImapAccount,
    imap_accounts,
    open_mailbox,
    poll_mailbox,
    storer,
    watch_mailbox,
)
from filrouge.channels.email.inbound import max_mail_bytes
from filrouge.core.models import Message
from helpers import shared_mail_files
from imap_server import ImapServer, dovecot
from test_email_channel import SUPPORT, mail, mail_with_attachment_of


@pytest.fixture
def server() -> Iterator[ImapServer]:
    with dovecot(SUPPORT, "imap secret 42") as running:
        yield running


@pytest.fixture
def account(server: ImapServer, channel: Any) -> ImapAccount:
    created = channel(
        "email",
        "Support",
        address=SUPPORT,
        imap_host="127.0.0.1",
        imap_port=server.port,
        imap_security="none",
        imap_password=server.password,
    )
    return ImapAccount.from_settings(
        created["id"], created["settings"] | {"imap_password": server.password}
    )  # type: ignore[return-value]


def deliver(server: ImapServer, *mails: bytes, folder: str = "INBOX") -> None:
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(server.username, server.password)
    for raw in mails:
        client.append(folder, None, None, raw)
    client.logout()


def stored_count(factory: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def poll(account: ImapAccount, factory: Any, settings: Any, max_bytes: int | None = None) -> int:
    with open_mailbox(account) as mailbox:
        store = storer(factory, settings, account.channel_id)
        return poll_mailbox(mailbox, account, store, max_bytes)


def flagged(server: ImapServer, keyword: str) -> list[bytes]:
    """The sequence numbers of the INBOX mails that carry ``keyword``."""
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(server.username, server.password)
    client.select("INBOX")
    _, found = client.search(None, "KEYWORD", keyword)
    client.logout()
    return list(found[0].split())


def inbox_count(server: ImapServer) -> int:
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(server.username, server.password)
    count = int(client.select("INBOX")[1][0] or 0)
    client.logout()
    return count


def test_it_finds_the_mailboxes_of_the_email_channels(account, factory):
    (found,) = imap_accounts(factory)
    assert (found.channel_id, found.port, found.folders) == (
        account.channel_id,
        account.port,
        ("INBOX",),
    )
    assert "imap secret" not in repr(found)


def test_it_stores_each_mail_once_and_marks_it_only_after(server, account, factory, settings):
    deliver(server, mail(subject="Un"), mail(subject="Deux"))
    assert poll(account, factory, settings) == 2
    assert poll(account, factory, settings) == 0  # marked: not read again
    assert stored_count(factory) == 2
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(server.username, server.password)
    client.select("INBOX")
    _, flagged = client.search(None, "KEYWORD", STORED)
    assert len(flagged[0].split()) == 2
    # as after a crash between storing and marking: the mail is read again, stored once
    client.store(b"1", "-FLAGS", STORED)
    client.logout()
    assert poll(account, factory, settings) == 1
    assert stored_count(factory) == 2


def test_it_moves_stored_mail_to_the_done_folder(server, account, factory, settings):
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(server.username, server.password)
    client.create("Traite")
    client.logout()
    moving = ImapAccount(**{**account.__dict__, "done_folder": "Traite"})
    deliver(server, mail())
    assert poll(moving, factory, settings) == 1
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(server.username, server.password)
    assert client.select("INBOX")[1] == [b"0"]
    assert client.select("Traite")[1] == [b"1"]
    client.logout()


def test_it_reads_every_real_mail_of_the_shared_fixtures_from_a_mailbox(
    server, account, factory, settings
):
    files = [p for p in shared_mail_files() if p.read_bytes().strip()]
    deliver(server, *(p.read_bytes() for p in files))
    assert poll(account, factory, settings) == len(files)
    assert stored_count(factory) > 200


def test_it_takes_new_mail_at_once_when_the_server_offers_idle(server, account, factory, settings):
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_mailbox, args=(factory, settings, account, stop, 600.0, 8.0)
    )
    watcher.start()
    try:
        time.sleep(1.0)  # connected and idling: the next poll is 8 s away
        deliver(server, mail(subject="Par IDLE"))
        deadline = time.monotonic() + 6
        while stored_count(factory) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stored_count(factory) == 1
    finally:
        stop.set()
        watcher.join(timeout=15)
    assert not watcher.is_alive()


def test_it_keeps_trying_when_the_server_is_unreachable(account, factory, settings):
    gone = ImapAccount(**{**account.__dict__, "port": 9})
    stop = threading.Event()
    watcher = threading.Thread(target=watch_mailbox, args=(factory, settings, gone, stop, 1.0))
    watcher.start()
    time.sleep(0.5)
    assert watcher.is_alive()  # waits, then connects again; never crashes
    stop.set()
    watcher.join(timeout=10)
    assert not watcher.is_alive()


def test_it_leaves_a_60_mb_mail_in_the_mailbox_flagged_and_logged(
    server, account, factory, settings, caplog
):
    deliver(server, mail_with_attachment_of(60 * 1024 * 1024), mail(subject="Petit"))
    limit = max_mail_bytes(settings)  # the defaults: 25 MB
    with caplog.at_level(logging.WARNING, logger="filrouge.channels.email.imap"):
        assert poll(account, factory, settings, limit) == 1  # as the watcher polls
    assert stored_count(factory) == 1  # the small one; nothing of the large one
    assert flagged(server, REFUSED) == [b"1"]
    assert flagged(server, STORED) == [b"2"]
    assert inbox_count(server) == 2  # left in place, for a person to deal with
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "refused" in warning.getMessage()
    assert f"over the limit of {limit}" in warning.getMessage()  # its size asked, not fetched
    assert poll(account, factory, settings, limit) == 0  # not read again


def test_it_flags_a_mail_the_pipeline_refuses_and_keeps_reading(
    server, account, factory, settings, caplog
):
    limited = settings.model_copy(update={"max_attachment_bytes": 64 * 1024})
    deliver(server, mail(subject="Avant"), mail_with_attachment_of(128 * 1024), mail())
    with caplog.at_level(logging.WARNING, logger="filrouge.channels.email.imap"):
        assert poll(account, factory, limited) == 2  # no size asked: refused once fetched
    assert flagged(server, REFUSED) == [b"2"]
    assert inbox_count(server) == 3
    assert stored_count(factory) == 2
    assert "65536 bytes" in caplog.text  # the reason, with the limit
    assert poll(account, factory, limited) == 0
