"""Email channel, inbound by SMTP: ``filrouge smtpd`` receives the mail a company forwards.

Each recipient must be the ``settings.address`` of an active email channel account, otherwise
it is refused at RCPT time (550), so a sender learns at once that the address is wrong. The
mail is stored through the pipeline before the server answers 250: a mail we accepted is
never lost, and a mail the sender retries is stored once (its Message-ID is the key). Mails
arriving together on several connections are stored together (``writer.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.email.inbound import normalised_mail
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
            outcomes = await asyncio.wrap_future(self.writer.submit(raw, channel_ids))
        except Exception:  # the sender keeps the mail and retries later: nothing is lost
            log.exception("could not store a mail; answered 451 so that the sender retries")
            return "451 4.3.0 Could not store the message, try again later"
        for outcome in outcomes:
            if isinstance(outcome, TooLarge):
                return f"552 5.3.4 {outcome}"
            if isinstance(outcome, DomainError):
                return f"554 5.6.0 {outcome}"
        return "250 Message accepted"

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
    """RFC 5321 caps lines at 1,000 octets, but real senders write longer ones (unwrapped HTML);
    like Postfix, take them rather than lose the mail."""

    line_length_limit = 1024 * 1024


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
        data_size_limit=settings.max_request_bytes,
        decode_data=False,
        server_hostname="filrouge",
        ready_timeout=10.0,
    )
    controller.start()
    return controller


def _normalised(address: str) -> str:
    try:
        return normalise_email(address)
    except (DomainError, ValueError):
        return address.strip().lower()
