"""Whether Filrouge may write to a customer on its own initiative. A reply to the customer is
a service message and never asks.

Email, SMS and WhatsApp follow the customer's consent flag (``consent_email``,
``consent_sms``, ``consent_whatsapp``: true, false, or absent for unknown):

- a message the product sends about the customer's own requests (a satisfaction survey, an
  after-hours acknowledgement) goes unless the customer said no;
- a marketing message (``marketing=True``) needs an explicit yes: prior consent, as the CNIL
  asks of commercial messages nobody requested.

Other channels have no flag: their own rules (a messaging window) decide. Nobody erased or
merged away is written to.
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


def may_contact(customer: Customer, channel_kind: str, *, marketing: bool = False) -> bool:
    """True when a message nobody asked for may go to ``customer`` on ``channel_kind``."""
    attributes = customer.attributes or {}
    if customer.merged_into_id is not None or ERASED_KEY in attributes:
        return False
    key = CONSENT_OF_CHANNEL.get(channel_kind)
    if key is None:
        return True
    consent = attributes.get(key)
    return consent is True if marketing else consent is not False
