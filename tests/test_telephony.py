"""The Twilio Voice adapter: what a provider's answer means, and what it never calls."""

from __future__ import annotations

import pytest

from fake_provider import fake_provider
from filrouge.channels.base import DeliveryError
from filrouge.channels.callback.telephony import OutboundCall, TwilioVoice, telephony_for

SETTINGS = {"account_sid": "AC42", "auth_token": "s3cret", "from_number": "+33180000000"}


def call(**settings: str) -> OutboundCall:
    return OutboundCall(1, "+33612345678", {**SETTINGS, **settings})


def test_it_returns_the_call_sid():
    with fake_provider() as twilio:
        twilio.answers = [(201, {"sid": "CA1"})]
        base = twilio.url.removesuffix("/hook")
        assert TwilioVoice().place_call(call(base_url=base, twiml_url="https://x.test/t")) == "CA1"


def test_it_reads_a_server_error_as_transient_and_a_refusal_as_permanent():
    with fake_provider() as twilio:
        base = twilio.url.removesuffix("/hook")
        twilio.answers = [(503, {})]
        with pytest.raises(DeliveryError) as busy:
            TwilioVoice().place_call(call(base_url=base, agent_number="+33180000001"))
        twilio.answers = [(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})]
        with pytest.raises(DeliveryError, match="Invalid 'To'") as refused:
            TwilioVoice().place_call(call(base_url=base, agent_number="+33180000001"))
    assert busy.value.permanent is False
    assert refused.value.permanent is True


def test_it_never_calls_a_private_address(monkeypatch):
    monkeypatch.setenv("FILROUGE_HTTP_ALLOW_PRIVATE", "0")
    monkeypatch.setenv("FILROUGE_HTTP_LOOPBACK_ONLY", "0")
    with pytest.raises(DeliveryError, match="private address") as blocked:
        TwilioVoice().place_call(call(base_url="http://127.0.0.1:9", agent_number="+331"))
    assert blocked.value.permanent is True


def test_it_needs_its_settings_and_reads_manual_as_nothing_to_place():
    with pytest.raises(DeliveryError, match="no twiml_url"):
        TwilioVoice().place_call(call())
    assert telephony_for("manual").place_call(call()) is None
    assert telephony_for("manual").places_calls is False
