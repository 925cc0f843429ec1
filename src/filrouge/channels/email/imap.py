"""Email channel, inbound by IMAP (imap-tools): each mailbox of an email channel account is read,
every mail stored through the pipeline, and only then marked, so nothing is read twice or
missed after a restart.

Settings of the channel account: ``imap_host``, ``imap_port`` (993 with ``tls``, else 143),
``imap_security`` (``tls`` by default, ``starttls`` or ``none``), ``imap_username``,
``imap_password``, ``imap_folders`` (default ``["INBOX"]``) and ``imap_done_folder`` (optional:
stored mail is moved there).

A stored mail gets the keyword ``$FilrougeStored`` (and ``\\Seen``); the next poll asks the
server only for mail without it. A mail the pipeline refuses (too large to be stored: its size
is asked before it is fetched) gets ``$FilrougeRefused`` instead, stays where it is for a person
to deal with, and is logged; it is not read again. A server that refuses custom keywords is
read by ``\\Seen`` instead. If the process stops between storing and marking, the mail is read
again and the pipeline answers it as a duplicate (Message-ID): stored once. Where the server
offers IDLE (and one folder is read), new mail is taken as it arrives, else every ``interval``
seconds.
"""

from __future__ import annotations

import imaplib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import ImapToolsError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.email.inbound import check_mail_size, max_mail_bytes, normalised_mail
from filrouge.core.actions.inbound import receive_message
from filrouge.core.errors import DomainError
from filrouge.core.models import ChannelAccount
from filrouge.core.models.enums import ChannelKind
from filrouge.db import transaction
from filrouge.settings import Settings

log = logging.getLogger(__name__)
STORED = "$FilrougeStored"
REFUSED = "$FilrougeRefused"  # a mail the pipeline refused (too large): left in place, not retried
IMAP_TIMEOUT = 60.0
IDLE_MAX = 25 * 60.0  # servers end IDLE after 30 minutes


@dataclass(frozen=True)
class ImapAccount:
    channel_id: int
    host: str
    port: int
    security: str
    username: str
    password: str
    folders: tuple[str, ...] = ("INBOX",)
    done_folder: str | None = None

    @classmethod
    def from_settings(cls, channel_id: int, settings: dict[str, Any]) -> ImapAccount | None:
        if not settings.get("imap_host"):
            return None
        security = str(settings.get("imap_security") or "tls")
        folders = settings.get("imap_folders") or ["INBOX"]
        return cls(
            channel_id=channel_id,
            host=str(settings["imap_host"]),
            port=int(settings.get("imap_port") or (993 if security == "tls" else 143)),
            security=security,
            username=str(settings.get("imap_username") or settings.get("address") or ""),
            password=str(settings.get("imap_password") or ""),
            folders=tuple(str(f) for f in folders),
            done_folder=str(settings["imap_done_folder"])
            if settings.get("imap_done_folder")
            else None,
        )

    def __repr__(self) -> str:  # never the password, even in a traceback
        return f"ImapAccount(channel {self.channel_id}, {self.username}@{self.host}:{self.port})"


def imap_accounts(factory: sessionmaker[Session]) -> list[ImapAccount]:
    """The IMAP mailbox of every active email channel account that has one."""
    with transaction(factory) as session:
        rows = session.execute(
            select(ChannelAccount.id, ChannelAccount.settings)
            .where(ChannelAccount.kind == ChannelKind.EMAIL, ChannelAccount.active)
            .order_by(ChannelAccount.id)
        )
        found = (ImapAccount.from_settings(cid, dict(s or {})) for cid, s in rows)
        return [account for account in found if account is not None]


def open_mailbox(account: ImapAccount) -> BaseMailBox:
    kinds: dict[str, Callable[..., BaseMailBox]] = {
        "tls": MailBox,
        "starttls": MailBoxStartTls,
        "none": MailBoxUnencrypted,
    }
    opener = kinds.get(account.security, MailBox)
    mailbox = opener(account.host, account.port, timeout=IMAP_TIMEOUT)
    return mailbox.login(account.username, account.password, initial_folder=None)


def poll_mailbox(
    mailbox: BaseMailBox,
    account: ImapAccount,
    store: Callable[[bytes], None],
    max_bytes: int | None = None,
) -> int:
    """Store every mail not stored yet, folder by folder; return how many were stored. A mail
    over ``max_bytes`` (as the server counts it) is refused without being fetched."""
    stored = 0
    for folder in account.folders:
        mailbox.folder.set(folder)
        keywords = _takes_keywords(mailbox)
        criteria = f"UNKEYWORD {STORED} UNKEYWORD {REFUSED}" if keywords else "UNSEEN"
        uids = mailbox.uids(criteria)
        sizes = fetch_sizes(mailbox, uids) if max_bytes is not None else {}
        for uid in uids:
            if max_bytes is not None and sizes.get(uid, 0) > max_bytes:
                log.warning(
                    "mail %s of %r refused: %d bytes, over the limit of %d; left in %s",
                    uid,
                    account,
                    sizes[uid],
                    max_bytes,
                    folder,
                )
                _mark(mailbox, uid, REFUSED if keywords else None)
                continue
            raw = fetch_raw(mailbox, uid)
            if raw is None:
                continue  # expunged meanwhile
            try:
                store(raw)
            except DomainError as refusal:
                log.warning("mail %s of %r refused: %s; left in %s", uid, account, refusal, folder)
                _mark(mailbox, uid, REFUSED if keywords else None)
                continue
            _mark(mailbox, uid, STORED if keywords else None)
            if account.done_folder:
                mailbox.move(uid, account.done_folder)
            stored += 1
    return stored


def fetch_raw(mailbox: BaseMailBox, uid: str) -> bytes | None:
    """The mail exactly as the server keeps it, without setting \\Seen (BODY.PEEK)."""
    status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise ImapToolsError(f"FETCH {uid} answered {status}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None


def fetch_sizes(mailbox: BaseMailBox, uids: list[str]) -> dict[str, int]:
    """Each mail's size as the server counts it (RFC822.SIZE), a few hundred at a time."""
    sizes: dict[str, int] = {}
    for start in range(0, len(uids), _SIZES_AT_ONCE):
        chunk = ",".join(uids[start : start + _SIZES_AT_ONCE])
        status, data = mailbox.client.uid("FETCH", chunk, "(RFC822.SIZE)")
        if status != "OK":
            raise ImapToolsError(f"FETCH RFC822.SIZE answered {status}")
        for item in data:
            line = bytes(item[0] if isinstance(item, tuple) else item or b"")
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


_SIZES_AT_ONCE = 500
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def _mark(mailbox: BaseMailBox, uid: str, keyword: str | None) -> None:
    flags = [MailMessageFlags.SEEN] + ([keyword] if keyword else [])
    mailbox.flag(uid, flags, True)


def _takes_keywords(mailbox: BaseMailBox) -> bool:
    """Whether the selected folder keeps custom keywords (PERMANENTFLAGS lists ``\\*``)."""
    responses = mailbox.client.untagged_responses.get("PERMANENTFLAGS") or []
    return any(b"\\*" in bytes(r) for r in responses if isinstance(r, bytes | bytearray))


def storer(
    factory: sessionmaker[Session], settings: Settings, channel_id: int
) -> Callable[[bytes], None]:
    def store(raw: bytes) -> None:
        check_mail_size(len(raw), settings)
        receive_message(factory, normalised_mail(channel_id, raw, settings), settings)

    return store


def watch_mailbox(
    factory: sessionmaker[Session],
    settings: Settings,
    account: ImapAccount,
    stop: threading.Event,
    interval: float = 60.0,
    idle_chunk: float = 60.0,
) -> None:
    """Read ``account`` until ``stop`` is set: IDLE where offered (at most ``idle_chunk``
    seconds at a time), else poll every ``interval`` seconds; on a lost connection, wait a
    little longer each time and connect again."""
    store = storer(factory, settings, account.channel_id)
    pause = 5.0
    while not stop.is_set():
        try:
            with open_mailbox(account) as mailbox:
                pause = 5.0
                idle = len(account.folders) == 1 and b"IDLE" in _capabilities(mailbox)
                while not stop.is_set():
                    poll_mailbox(mailbox, account, store, max_mail_bytes(settings))
                    if idle:  # woken by the server; a poll still runs after each chunk
                        mailbox.idle.wait(timeout=min(idle_chunk, IDLE_MAX))
                    else:
                        stop.wait(interval)
        except (ImapToolsError, imaplib.IMAP4.error, OSError) as exc:
            log.warning(
                "IMAP %r: %s; trying again in %.0f s", account, exc.__class__.__name__, pause
            )
            stop.wait(pause)
            pause = min(pause * 2, 300.0)


def _capabilities(mailbox: BaseMailBox) -> set[bytes]:
    return {c.encode() if isinstance(c, str) else bytes(c) for c in mailbox.client.capabilities}
