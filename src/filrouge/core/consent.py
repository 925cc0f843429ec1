"""Whether Filrouge may write to a customer on its own initiative (a survey, an after-hours
acknowledgement…). A reply to the customer is a service message and never asks.

Email, SMS and WhatsApp follow the customer's consent flag (``consent_email``,
``consent_sms``, ``consent_whatsapp``): only an explicit yes allows it; no, or nothing known,
refuses (prior consent, as the CNIL asks of messages nobody requested). Other channels have no
flag: their own rules (a messaging window) decide. Nobody erased or merged away is written to.
"""

from __future__ import annotations

from filrouge.core.custom_fields import CONSENTS
from filrouge.core.models import Customer
from filrouge.core.models.enums import ChannelKind

ERASED_KEY = "erased_at"  # as core/actions/erasure.py writes it
CONSENT_OF_CHANNEL: dict[str, str] = {
    ChannelKind.EMAIL: CONSENTS["email"],
    ChannelKind.SMS: CONSENTS["sms"],
    ChannelKind.WHATSAPP: CONSENTS["whatsapp"],
}


def may_contact(customer: Customer, channel_kind: str) -> bool:
    """True when a message nobody asked for may go to ``customer`` on ``channel_kind``."""
    attributes = customer.attributes or {}
    if customer.merged_into_id is not None or ERASED_KEY in attributes:
        return False
    key = CONSENT_OF_CHANNEL.get(channel_kind)
    if key is None:
        return True
    return attributes.get(key) is True
