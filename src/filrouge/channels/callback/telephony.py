"""Placing the call: Twilio Voice, or manual (the agent dials the number shown).

Twilio (channel settings ``telephony: "twilio"``, ``account_sid``, ``auth_token``,
``from_number``, optionally ``base_url``, default ``https://api.twilio.com``):
``POST {base_url}/2010-04-01/Accounts/{account_sid}/Calls.json``, form-encoded, HTTP basic
auth ``account_sid:auth_token``. With ``agent_number`` the agents' line rings first and,
once answered, Twilio dials the customer (``Twiml`` with ``<Dial>``): the customer never picks
up to silence. Without it, ``twiml_url`` is called for instructions while the customer's
phone rings (``Url``). The answer's ``sid`` is the call's id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar
from xml.sax.saxutils import escape, quoteattr

import httpx

from filrouge.channels.base import DeliveryError
from filrouge.lib.http import BlockedAddress, send_request

TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True)
class OutboundCall:
    callback_id: int
    to: str  # the customer's number, E.164
    channel_settings: dict[str, Any]


class Telephony(ABC):
    mode: ClassVar[str]
    # False: nothing is placed, the agent dials the number shown.
    places_calls: ClassVar[bool] = True

    @abstractmethod
    def place_call(self, call: OutboundCall) -> str | None:
        """Start the call; return the provider's call id, or raise ``DeliveryError``."""


class ManualTelephony(Telephony):
    mode = "manual"
    places_calls = False

    def place_call(self, call: OutboundCall) -> str | None:
        return None


class TwilioVoice(Telephony):
    mode = "twilio"

    def place_call(self, call: OutboundCall) -> str | None:
        settings = call.channel_settings
        sid, token = _required(settings, "account_sid"), _required(settings, "auth_token")
        base = str(settings.get("base_url") or TWILIO_API).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{sid}/Calls.json"
        form = call_form(call)
        try:
            response = send_request("POST", url, data=form, auth=(sid, token))
        except BlockedAddress as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        return _call_sid(response)


def call_form(call: OutboundCall) -> dict[str, str]:
    settings = call.channel_settings
    caller_id = _required(settings, "from_number")
    agents = settings.get("agent_number")
    if agents:
        dial = f"<Dial callerId={quoteattr(caller_id)}><Number>{escape(call.to)}</Number></Dial>"
        return {"To": str(agents), "From": caller_id, "Twiml": f"<Response>{dial}</Response>"}
    return {"To": call.to, "From": caller_id, "Url": _required(settings, "twiml_url")}


def _required(settings: dict[str, Any], key: str) -> str:
    value = settings.get(key)
    if not value:
        raise DeliveryError(f"this callback channel has no {key}", permanent=True)
    return str(value)


def _call_sid(response: httpx.Response) -> str | None:
    status = response.status_code
    if status >= 500 or status == 429:
        raise DeliveryError(f"Twilio answered {status}")
    if not 200 <= status < 300:
        raise DeliveryError(
            f"Twilio refused the call ({status}): {_reason(response)}", permanent=True
        )
    try:
        data = response.json()
    except ValueError:
        return None
    sid = data.get("sid") if isinstance(data, dict) else None
    return None if sid is None else str(sid)


def _reason(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message", ""))[:200] if isinstance(data, dict) else ""


TELEPHONY: dict[str, Telephony] = {t.mode: t for t in (ManualTelephony(), TwilioVoice())}


def telephony_for(mode: str) -> Telephony:
    """The way calls are placed on a channel; an unknown mode is read as manual."""
    return TELEPHONY.get(mode, TELEPHONY["manual"])
