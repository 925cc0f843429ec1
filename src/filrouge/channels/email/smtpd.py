"""Email channel, inbound by SMTP: ``filrouge smtpd`` receives the mail a company forwards.

Each recipient must be the ``settings.address`` of an active email channel account, otherwise
it is refused at RCPT time (550), so a sender learns at once that the address is wrong. The
mail is stored through the pipeline before the server answers 250: a mail we accepted is
never lost, and a mail the sender retries is stored once (its Message-ID is the key). The
mail of a lone connection is parsed and stored on the event loop itself; mails arriving together
on several connections go to a writer thread, which stores together those that wait
(``writer.py``). A mail over the size limit (the attachment limit: its original is kept as an
attachment) is refused with a 552 that says what the limit is.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from functools import lru_cache

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, Envelope, syntax
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.email.inbound import max_mail_bytes, normalised_mail
from filrouge.channels.email.writer import GroupWriter, Outcome
from filrouge.core.actions.inbound import receive_messages
from filrouge.core.errors import DomainError, TooLarge
from filrouge.core.identity import normalise_email
from filrouge.core.models import ChannelAccount
from filrouge.core.models.enums import ChannelKind
from filrouge.db import transaction
from filrouge.settings import Settings

log = logging.getLogger(__name__)
ADDRESSES_TTL = 5.0  # seconds
INLINE_MAX_BYTES = 1024 * 1024  # larger mails are parsed away from the event loop, always


def email_channels_by_address(factory: sessionmaker[Session]) -> dict[str, int]:
    """The address of each active email channel account → its id."""
    with transaction(factory) as session:
        rows = session.execute(
            select(ChannelAccount.id, ChannelAccount.settings).where(
                ChannelAccount.kind == ChannelKind.EMAIL, ChannelAccount.active
            )
        )
        found: dict[str, int] = {}
        for channel_id, settings in rows:
            address = str((settings or {}).get("address") or "")
            if "@" in address:
                found.setdefault(normalise_email(address), channel_id)
        return found


class MailHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores the mail once per channel."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self._addresses: dict[str, int] = {}
        self._read_at = -ADDRESSES_TTL
        self.writer = GroupWriter(self.store_batch)
        self.sessions = 0  # open SMTP connections (counted on the event loop)

    def channels(self) -> dict[str, int]:
        """The channels' addresses, read again every few seconds (not for every recipient:
        an admin's change reaches the server within ``ADDRESSES_TTL`` seconds)."""
        now = time.monotonic()
        if now - self._read_at >= ADDRESSES_TTL:
            self._addresses = email_channels_by_address(self.factory)
            self._read_at = now
        return self._addresses

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        fresh = time.monotonic() - self._read_at < ADDRESSES_TTL
        channels = self._addresses if fresh else await asyncio.to_thread(self.channels)
        if _normalised(address) not in channels:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        try:
            channel_ids = self.channel_ids(envelope.rcpt_tos)
            if not channel_ids:  # every address was closed since RCPT
                return "554 5.1.1 No such mailbox here"
            outcomes = await self.store(raw, channel_ids)
        except Exception:  # the sender keeps the mail and retries later: nothing is lost
            log.exception("could not store a mail; answered 451 so that the sender retries")
            return "451 4.3.0 Could not store the message, try again later"
        for outcome in outcomes:
            if isinstance(outcome, TooLarge):
                return f"552 5.3.4 {outcome}"
            if isinstance(outcome, DomainError):
                return f"554 5.6.0 {outcome}"
        return "250 Message accepted"

    async def store(self, raw: bytes, channel_ids: list[int]) -> list[Outcome]:
        """The mail of a lone sender is stored right here, on the event loop, which has nothing
        else to do: two thread switches saved (half a millisecond a mail). Mails of several
        senders at once go to the writer thread, which stores together those that wait."""
        if self.sessions <= 1 and len(raw) <= INLINE_MAX_BYTES and self.writer.idle:
            return self.store_batch([(raw, channel_ids)])
        return await asyncio.wrap_future(self.writer.submit(raw, channel_ids))

    def channel_ids(self, recipients: list[str]) -> list[int]:
        """The channels among the mail's recipients (each stores the mail once)."""
        channels = self._addresses  # RCPT has just read them
        return sorted({channels[a] for a in map(_normalised, recipients) if a in channels})

    def store_batch(self, batch: list[tuple[bytes, list[int]]]) -> list[Outcome]:
        """Parse the mails of a batch (in the writer's thread) and store them together."""
        mails = [
            normalised_mail(channel_id, raw, self.settings)
            for raw, channel_ids in batch
            for channel_id in channel_ids
        ]
        return receive_messages(self.factory, mails, self.settings) if mails else []


class TolerantSMTP(SMTP):
    """aiosmtpd's server, with three changes.

    - Lines of any length: RFC 5321 caps them at 1,000 octets, but real senders write longer
      ones (unwrapped HTML); like Postfix, take them rather than lose the mail.
    - DATA is read in large pieces, not line by line (aiosmtpd awaits every line: a third of
      the server's time per mail went there).
    - A mail over the size limit is refused with a reply that says what the limit is, whether
      the sender announced its size (``MAIL FROM:<…> SIZE=…``, refused before any data comes)
      or not (read to its end, dropped, refused).
    """

    line_length_limit = 1024 * 1024  # command lines; and the pieces DATA is read in
    _counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._counted and isinstance(self.event_handler, MailHandler):
            self._counted = True
            self.event_handler.sessions += 1

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted and isinstance(self.event_handler, MailHandler):
            self._counted = False
            self.event_handler.sessions -= 1
        super().connection_lost(error)

    def too_large_reply(self) -> str:
        limit = self.data_size_limit or 0
        return (
            f"552 5.3.4 Message too large: this server takes mails of at most {limit} bytes"
            f" ({limit / 1024 / 1024:.0f} MB), attachments included"
        )

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:  # noqa: N802 - aiosmtpd's name
        if self._announces_too_much(arg):
            await self.push(self.too_large_reply())
            return
        await super().smtp_MAIL(arg)

    def _announces_too_much(self, arg: str | None) -> bool:
        """A ``SIZE=`` over the limit, where aiosmtpd would itself look at it."""
        session, envelope = self.session, self.envelope
        if not (arg and self.data_size_limit and session and session.extended_smtp):
            return False
        if not session.host_name or (envelope and envelope.mail_from):
            return False  # aiosmtpd answers these first (no HELO yet, nested MAIL)
        found = _SIZE_PARAMETER.search(arg)
        return found is not None and int(found.group(1)) > self.data_size_limit

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """``<local@domain>`` in plain atoms read at once; anything else as aiosmtpd reads it
        (its RFC 5322 parser: the same address, some 100 µs later)."""
        plain = _PLAIN_PATH.match(arg)
        if plain is None:
            return super()._getaddr(arg)
        local = plain.group(1).rpartition("@")[0]
        if self.local_part_limit and len(local) > self.local_part_limit:
            return None, None
        return plain.group(1), arg[plain.end() :]

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's name
        if self._decode_data:  # text wanted: aiosmtpd's own reading (not how we run)
            await super().smtp_DATA(arg)
            return
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content = await self._read_data()
        if content is None:
            self._set_post_data_state()
            await self.push(self.too_large_reply())
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> bytes | None:
        """The data up to the line that is a lone dot, dot-stuffing undone (RFC 5321 4.5.2);
        None when it was over ``data_size_limit`` (then read to its end all the same, so that
        the reply comes after it, and dropped as it came)."""
        limit = self.data_size_limit
        pieces: list[bytes] = []
        size = 0
        tail = b"\r\n"  # the two bytes before what is read next (the data starts a line)
        while True:
            try:
                piece = await self._reader.readuntil(b".\r\n")
            except asyncio.LimitOverrunError as overrun:  # a megabyte without ".\r\n"
                piece = await self._reader.read(overrun.consumed)
            except asyncio.IncompleteReadError as closed:
                raise ConnectionResetError("the client left during DATA") from closed
            ends = piece.endswith(b".\r\n") and (tail + piece[-5:])[-5:-3] == b"\r\n"
            if ends:
                piece = piece[:-3]
            size += len(piece)
            if limit and size > limit:
                pieces.clear()  # keep nothing of a mail too large
            else:
                pieces.append(piece)
            if ends:
                break
            tail = (tail + piece[-2:])[-2:]
        if limit and size > limit:
            return None
        data = b"".join(pieces)
        return (b"\r\n" + data).replace(b"\r\n.", b"\r\n")[2:]


_SIZE_PARAMETER = re.compile(r"(?:^|\s)SIZE=(\d+)(?=\s|$)", re.IGNORECASE)
# <local@domain> in dot-atoms (RFC 5322 3.2.3), then the parameters, if any.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(rf"\s*<({_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*)>(?=\s|$)")


class MailController(Controller):
    def factory(self) -> SMTP:
        return TolerantSMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.handler.writer.close()


def start_smtpd(
    factory: sessionmaker[Session], settings: Settings, host: str, port: int
) -> Controller:
    """Start the SMTP server in a background thread; ``stop()`` the returned controller."""
    controller = MailController(
        MailHandler(factory, settings),
        hostname=host,
        port=port,
        data_size_limit=max_mail_bytes(settings),
        decode_data=False,
        server_hostname="filrouge",
        ready_timeout=10.0,
    )
    controller.start()
    return controller


@lru_cache(maxsize=1024)
def _normalised(address: str) -> str:
    """A recipient as the channels' addresses are kept (read twice a mail: RCPT and DATA;
    the same few addresses every time, so remembered)."""
    try:
        return normalise_email(address)
    except (DomainError, ValueError):
        return address.strip().lower()
