"""Storing one received mail, as the SMTP server does for a lone sender: its channel checked,
a mail delivered again answered as the first, the same attachment kept once."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select, update

from filrouge.channels.email.inbound import normalised_mail
from filrouge.core.actions.inbound import InboundResult, receive_messages
from filrouge.core.errors import NotFound
from filrouge.core.models import Attachment, ChannelAccount, Message

INVOICE = b"%PDF-1.4\n" + b"facture 2026-118\n" * 200


def mail(subject: str = "Ma facture", with_invoice: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = "Jeanne Martin <jeanne.martin@example.test>"
    message["To"] = "support@maison-lumiere.test"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.test")
    message.set_content("Bonjour,\nVoici la facture.\nJeanne")
    if with_invoice:
        message.add_attachment(
            INVOICE, maintype="application", subtype="pdf", filename="facture.pdf"
        )
    return bytes(message)


def store(factory: Any, settings: Any, channel_id: int, raw: bytes) -> Any:
    (outcome,) = receive_messages(factory, [normalised_mail(channel_id, raw, settings)], settings)
    return outcome


def count(factory: Any, model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_it_answers_a_mail_delivered_again_as_the_first_one(factory, settings, channel):
    email = channel("email", address="support@maison-lumiere.test")
    raw = mail()
    first = store(factory, settings, email["id"], raw)
    again = store(factory, settings, email["id"], raw)
    assert isinstance(first, InboundResult)
    assert not first.duplicate
    assert again == InboundResult(
        first.message_id, first.conversation_id, first.customer_id, duplicate=True
    )
    assert count(factory, Message) == 1


def test_it_refuses_a_mail_for_a_channel_switched_off_since(factory, settings, channel):
    email = channel("email", address="support@maison-lumiere.test")
    with factory() as session, session.begin():
        session.execute(
            update(ChannelAccount).where(ChannelAccount.id == email["id"]).values(active=False)
        )
    refusal = store(factory, settings, email["id"], mail())
    assert isinstance(refusal, NotFound)
    assert refusal.code == "unknown_channel"
    assert count(factory, Message) == 0


def test_it_keeps_the_same_attachment_once_for_two_mails(factory, settings, channel):
    email = channel("email", address="support@maison-lumiere.test")
    store(factory, settings, email["id"], mail("Ma facture", with_invoice=True))
    store(factory, settings, email["id"], mail("Ma facture, encore", with_invoice=True))
    files = [p for p in settings.attachments_dir.rglob("*") if p.is_file()]
    assert count(factory, Attachment) == 4  # two invoices, two originals
    assert len(files) == 3  # the invoice once, each original
    assert sum(1 for p in files if p.read_bytes() == INVOICE) == 1
