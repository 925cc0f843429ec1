"""SMS through Twilio: Twilio's signature test vectors and real inbound parameter sets go through
the real webhook endpoint, signed the Twilio way; replies and their status callbacks travel
through a fake Twilio on 127.0.0.1; the click-to-call line texts its confirmation by SMS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import select

from fake_provider import FakeProvider, fake_provider
from filrouge.channels.callback.hours import WEEKDAYS
from filrouge.core.models import CallbackRequest
from filrouge.jobs.deliveries import deliver
from helpers import conversations, shared_data, thread

TOKEN = "twilio-test-auth-token"
ACCOUNT = "ACf54dd7a47a8011d65b54d472a7190549"
NUMBER = "+3197014204768"  # the Dutch parameter set's "To"
CUSTOMER = "+31612345678"  # … and its "From"
NL_SID = "SMb711289e438f577f230f5837e9c74a08"
FORM = "application/x-www-form-urlencoded"
# The public URL Twilio is given for receipts, which a reverse proxy forwards to /hooks/sms/<id>.
STATUS_URL = "https://support.example.com/twilio/sms-status"
REPLY_SID = "SM0123456789abcdef0123456789abcdef"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_data() -> Path:
    return shared_data("webhooks", "twilio")


def parameter_set(name: str) -> dict[str, str]:
    """A real parameter set kept as JSON (its ``_source`` note aside)."""
    params = json.loads((twilio_data() / f"{name}.json").read_text())
    params.pop("_source")
    return {key: str(value) for key, value in params.items()}


def sign(url: str, params: list[tuple[str, str]], token: str = TOKEN) -> str:
    """Twilio's signature: base64 HMAC-SHA1 of the URL followed by each name and value,
    sorted by name (computed here by hand, not by the library under test)."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def hook_url(channel_id: int) -> str:
    return f"http://testserver/hooks/sms/{channel_id}"


def post_hook(
    admin: Any, channel_id: int, body: bytes, signature: str | None, content_type: str = FORM
) -> Any:
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return admin.client.post(f"/hooks/sms/{channel_id}", content=body, headers=headers)


def post_signed(admin: Any, channel_id: int, params: dict[str, str], url: str = "") -> Any:
    """Post ``params`` as Twilio would: form-encoded, signed for ``url`` (default: the hook)."""
    signature = sign(url or hook_url(channel_id), list(params.items()))
    return post_hook(admin, channel_id, urlencode(params).encode(), signature)


def status_callback(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The parameters of Twilio's status callback for a message we sent."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": ACCOUNT,
        "From": NUMBER,
        "To": CUSTOMER,
        "ApiVersion": "2010-04-01",
        **extra,
    }


@pytest.fixture
def twilio_api() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.answers = [(201, {"sid": REPLY_SID, "status": "queued"})]
        yield provider


@pytest.fixture
def sms(channel: Any, twilio_api: FakeProvider) -> Any:
    def make(**settings: Any) -> dict[str, Any]:
        settings = {
            "account_sid": ACCOUNT,
            "auth_token": TOKEN,
            "phone_number": NUMBER,
            "api_base_url": twilio_api.base,
            **settings,
        }
        created: dict[str, Any] = channel("sms", "SMS", **settings)
        return created

    return make


def deliveries(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin.get(
        f"/api/v1/channels/{channel_id}/webhook-deliveries?limit=100"
    ).json()["items"]
    return found


def reply(admin: Any, conversation_id: int, text: str) -> dict[str, Any]:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": text})
    assert response.status_code == 201, response.text
    sent: dict[str, Any] = next(
        m for m in thread(admin, conversation_id) if m["id"] == response.json()["id"]
    )
    return sent


def dutch_sms_conversation(admin: Any, channel_id: int) -> int:
    body = (twilio_data() / "inbound_sms_nl_nuntius.form-urlencoded.txt").read_bytes()
    response = post_hook(admin, channel_id, body, sign(hook_url(channel_id), form_pairs(body)))
    assert response.status_code == 200, response.text
    [conversation] = conversations(admin)
    return int(conversation["id"])


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


# --- signatures ------------------------------------------------------------------------------


def signature_vectors() -> list[tuple[str, bytes, str, str]]:
    """(URL Twilio called, body, its media type, expected signature) for each vector."""
    vectors = json.loads((twilio_data() / "signature_test_vectors_twilio-python.json").read_text())
    shared = list(vectors["cases"][0]["params"].items())
    found = []
    for case in vectors["cases"]:
        url = case["url"].split(" (")[0]  # "(with :443 added)": Twilio signed it with the port
        if "json_body" in case:
            body, kind = case["json_body"].encode(), "application/json"
        else:
            body, kind = urlencode(vector_params(case, shared)).encode(), FORM
        found.append((url, body, kind, case["expected_signature"]))
    return found


def vector_params(case: dict[str, Any], shared: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if "params_multi" in case:  # a name posted more than once
        return [(name, value) for name, value in case["params_multi"]]
    return shared if case["params"] == "same as case 1" else list(case["params"].items())


def test_it_accepts_each_signature_of_twilios_test_vectors_and_refuses_it_altered(admin, sms):
    vectors = signature_vectors()
    assert len(vectors) == 6
    for url, body, kind, signature in vectors:
        ch = sms(auth_token="12345", webhook_url=url)
        # The signature is good, but a voice call's parameters (or JSON) are not an SMS callback.
        accepted = post_hook(admin, ch["id"], body, signature, kind)
        assert accepted.status_code == 400, (url, accepted.text)
        assert accepted.json()["error"]["code"] == "invalid_payload"
        altered = ("B" if signature.startswith("A") else "A") + signature[1:]
        refused = post_hook(admin, ch["id"], body, altered, kind)
        assert refused.status_code == 401, (url, refused.text)
        [kept] = deliveries(admin, ch["id"])
        assert kept["outcome"] == "unreadable"


def test_it_refuses_a_vector_signed_for_another_url_than_the_channels(admin, sms):
    url, body, kind, signature = signature_vectors()[0]
    ch = sms(auth_token="12345", webhook_url=url.replace("myapp.php", "other.php"))
    response = post_hook(admin, ch["id"], body, signature, kind)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []


def test_it_refuses_an_sms_unsigned_or_signed_with_another_token_and_stores_nothing(admin, sms):
    ch = sms()
    body = (twilio_data() / "inbound_sms_nl_nuntius.form-urlencoded.txt").read_bytes()
    pairs = form_pairs(body)
    tampered = body.replace(b"Body=St", b"Body=Refund+me")
    for content, signature in (
        (body, None),
        (body, sign(hook_url(ch["id"]), pairs, token="another-token")),
        (tampered, sign(hook_url(ch["id"]), pairs)),
    ):
        response = post_hook(admin, ch["id"], content, signature)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []
    assert conversations(admin) == []


# --- incoming SMS and MMS --------------------------------------------------------------------


def test_it_stores_the_dutch_sms_once_from_its_raw_form_and_its_parameter_set(admin, sms):
    ch = sms()
    body = (twilio_data() / "inbound_sms_nl_nuntius.form-urlencoded.txt").read_bytes()
    signature = sign(hook_url(ch["id"]), form_pairs(body))
    for _ in range(2):  # Twilio retried: the same body is kept once
        answer = post_hook(admin, ch["id"], body, signature)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/xml")
        assert answer.text == TWIML
    # The same parameters in another order: another body, the same message (its MessageSid).
    again = dict(sorted(parameter_set("inbound_sms_nl_nuntius").items()))
    assert post_signed(admin, ch["id"], again).text == TWIML
    kept = deliveries(admin, ch["id"])
    assert [d["outcome"] for d in kept] == ["processed", "processed"]
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    assert (message["text"], message["provider_message_id"]) == ("St", NL_SID)
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"], identity["verified"]) == (
        "phone",
        CUSTOMER,
        True,
    )


def test_it_keeps_the_us_tutorial_sms_as_unsupported_because_its_numbers_are_masked(admin, sms):
    ch = sms(phone_number="+1929xxxxxxx")  # the tutorial's own (masked) "To"
    body = (twilio_data() / "inbound_sms_us_tutorial.form-urlencoded.txt").read_bytes()
    assert post_hook(admin, ch["id"], body, sign(hook_url(ch["id"]), form_pairs(body))).text == (
        TWIML
    )
    # The parameter set, form-encoded, is that very body: a redelivery, kept once.
    assert urlencode(parameter_set("inbound_sms_us_tutorial")).encode() == body.strip()
    assert post_signed(admin, ch["id"], parameter_set("inbound_sms_us_tutorial")).text == TWIML
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unsupported"
    [unsupported] = kept["summary"]["unsupported"]
    assert unsupported["event_type"] == "unknown_sender"
    assert "+1917xxxxxxx" in unsupported["reason"]
    assert "E.164" in unsupported["reason"]
    assert conversations(admin) == []  # never read as +1 917 999 9999, somebody else's phone


def test_it_links_an_sms_to_the_customer_whose_verified_phone_is_the_same(admin, sms):
    jeanne = admin.post(
        "/api/v1/customers",
        json={
            "name": "Jeanne de Vries",
            "identities": [{"kind": "whatsapp", "value": CUSTOMER, "verified": True}],
        },
    ).json()
    ch = sms()
    post_signed(admin, ch["id"], parameter_set("inbound_sms_nl_nuntius"))
    [conversation] = conversations(admin)
    assert conversation["customer_id"] == jeanne["id"]
    kinds = {i["kind"] for i in admin.get(f"/api/v1/customers/{jeanne['id']}").json()["identities"]}
    assert kinds == {"whatsapp", "phone"}


def test_it_keeps_an_sms_to_another_number_as_unsupported(admin, sms):
    ch = sms(phone_number="+33 7 00 00 00 00")
    post_signed(admin, ch["id"], parameter_set("inbound_sms_nl_nuntius"))
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unsupported"
    [unsupported] = kept["summary"]["unsupported"]
    assert unsupported["event_type"] == "unknown_number"
    assert NUMBER in unsupported["reason"]
    assert conversations(admin) == []


def test_it_takes_an_sms_to_a_number_of_its_messaging_service(admin, sms):
    ch = sms(phone_number="", messaging_service_sid="MG790b6bd09f119b54ffb7f03b8841b1c9")
    post_signed(admin, ch["id"], parameter_set("inbound_sms_nl_nuntius"))
    [conversation] = conversations(admin)
    assert thread(admin, conversation["id"])[0]["text"] == "St"


def test_it_fetches_the_pictures_of_an_mms_with_the_accounts_credentials(admin, sms, twilio_api):
    media = f"{twilio_api.base}/2010-04-01/Accounts/{ACCOUNT}/Messages/MM0001/Media"
    twilio_api.routes = {
        "/Media/ME0001": [(307, b"", {"Location": "/cdn/short-lived/ME0001"})],
        "/cdn/short-lived/ME0001": [(200, JPEG)],
        "/Media/ME0002": [(200, PNG)],
    }
    ch = sms()
    params = {
        **parameter_set("inbound_sms_nl_nuntius"),
        "MessageSid": "MM0001",
        "SmsSid": "MM0001",
        "SmsMessageSid": "MM0001",
        "Body": "Voici le colis abîmé",
        "NumMedia": "2",
        "MediaUrl0": f"{media}/ME0001",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": f"{media}/ME0002",
        "MediaContentType1": "image/png",
    }
    post_signed(admin, ch["id"], params)
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    [first] = twilio_api.calls("/Media/ME0001")
    assert first.headers["Authorization"] == expected_auth
    [redirected] = twilio_api.calls("/cdn/short-lived/ME0001")
    assert "Authorization" not in redirected.headers  # the CDN never sees the credentials
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    assert message["text"] == "Voici le colis abîmé"
    names = [a["filename"] for a in message["attachments"]]
    assert names == ["ME0001.jpg", "ME0002.png"]
    contents = [admin.get(f"/api/v1/attachments/{a['id']}").content for a in message["attachments"]]
    assert contents == [JPEG, PNG]


def test_it_keeps_a_signed_form_that_is_no_message_callback_as_unreadable(admin, sms):
    ch = sms()
    response = post_signed(admin, ch["id"], {"MessageSid": NL_SID, "AccountSid": ACCOUNT})
    assert response.status_code == 400
    assert "neither an incoming message nor a status callback" in response.text
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unreadable"


# --- replies and their receipts --------------------------------------------------------------


def test_it_replies_by_twilio_and_a_delivered_callback_marks_it_delivered(admin, sms, twilio_api):
    ch = sms(status_callback_url=STATUS_URL)
    conversation = dutch_sms_conversation(admin, ch["id"])
    sent = reply(admin, conversation, "Bonjour, votre colis part demain.")
    assert (sent["status"], sent["provider_message_id"]) == ("sent", REPLY_SID)
    [call] = twilio_api.calls(f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    assert call.method == "POST"
    form = call.form()
    assert (form["To"], form["From"], form["StatusCallback"]) == (
        [CUSTOMER],
        [NUMBER],
        [STATUS_URL],
    )
    assert form["Body"] == ["Bonjour, votre colis part demain.\nCamille"]  # signed: first name
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert call.headers["Authorization"] == expected_auth
    answer = post_signed(admin, ch["id"], status_callback(REPLY_SID, "delivered"), STATUS_URL)
    assert answer.text == TWIML
    shown = next(m for m in thread(admin, conversation) if m["id"] == sent["id"])
    assert shown["status"] == "delivered"


def test_it_marks_a_reply_failed_when_twilio_reports_it_undelivered(admin, sms):
    ch = sms(status_callback_url=STATUS_URL)
    conversation = dutch_sms_conversation(admin, ch["id"])
    sent = reply(admin, conversation, "Bonjour")
    callback = status_callback(REPLY_SID, "undelivered", ErrorCode="30003")
    post_signed(admin, ch["id"], callback, STATUS_URL)
    shown = next(m for m in thread(admin, conversation) if m["id"] == sent["id"])
    assert (shown["status"], shown["error"]) == ("failed", "30003 Unreachable destination handset")


def test_it_sends_from_the_messaging_service_when_one_is_set(admin, sms, twilio_api):
    ch = sms(messaging_service_sid="MG790b6bd09f119b54ffb7f03b8841b1c9")
    conversation = dutch_sms_conversation(admin, ch["id"])
    reply(admin, conversation, "Bonjour")
    [call] = twilio_api.calls("/Messages.json")
    form = call.form()
    assert form["MessagingServiceSid"] == ["MG790b6bd09f119b54ffb7f03b8841b1c9"]
    assert "From" not in form
    assert "StatusCallback" not in form


def test_it_flags_the_channel_when_twilio_refuses_the_credentials(admin, sms, twilio_api):
    twilio_api.answers = [(401, twilio_error(20003, "Authenticate", 401))]
    ch = sms()
    sent = reply(admin, dutch_sms_conversation(admin, ch["id"]), "Bonjour")
    assert sent["status"] == "failed"
    assert "Twilio error 20003: Authenticate" in sent["error"]
    shown = admin.get(f"/api/v1/channels/{ch['id']}").json()
    assert shown["needs_reconnection"] is True


def test_it_fails_a_reply_to_an_opted_out_or_invalid_number_at_once(admin, sms, twilio_api):
    twilio_api.answers = [
        (400, twilio_error(21610, "Attempt to send to unsubscribed recipient", 400)),
        (400, twilio_error(21211, "The 'To' number +31612345678 is not valid.", 400)),
    ]
    ch = sms()
    conversation = dutch_sms_conversation(admin, ch["id"])
    opted_out = reply(admin, conversation, "Bonjour")
    invalid = reply(admin, conversation, "Bonjour encore")
    assert (opted_out["status"], invalid["status"]) == ("failed", "failed")
    assert "21610" in opted_out["error"]
    assert "21211" in invalid["error"]
    assert len(twilio_api.calls("/Messages.json")) == 2  # neither was tried again
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is False


def test_it_waits_as_long_as_twilio_asks_before_trying_again(admin, sms, twilio_api):
    from filrouge.jobs.queue import huey

    twilio_api.answers = [
        (429, twilio_error(20429, "Too Many Requests", 429), {"Retry-After": "42"}),
        (201, {"sid": REPLY_SID, "status": "queued"}),
    ]
    ch = sms()
    conversation = dutch_sms_conversation(admin, ch["id"])
    queued = reply(admin, conversation, "Bonjour")
    assert queued["status"] == "queued"
    assert "Too Many Requests" in queued["error"]
    [scheduled] = [t for t in huey.scheduled() if t.args[:1] == (queued["id"],)]
    delay = (scheduled.eta - huey._get_timestamp()).total_seconds()
    assert 40 <= delay <= 43
    huey.storage.flush_schedule()
    deliver.call_local(queued["id"], 2)
    shown = next(m for m in thread(admin, conversation) if m["id"] == queued["id"])
    assert (shown["status"], shown["provider_message_id"]) == ("sent", REPLY_SID)


def test_it_refuses_to_send_an_sms_longer_than_1600_characters(admin, sms, twilio_api):
    ch = sms()
    sent = reply(admin, dutch_sms_conversation(admin, ch["id"]), "a" * 1601)
    assert sent["status"] == "failed"
    assert "1600" in sent["error"]
    assert twilio_api.calls("/Messages.json") == []


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


# --- click-to-call confirmations ----------------------------------------------------------


def test_it_texts_the_callback_confirmation_through_twilio(admin, sms, channel, twilio_api):
    ch = sms()
    line = channel(
        "callback",
        "Rappel",
        hours={day: [["00:00", "24:00"]] for day in WEEKDAYS},
        holidays_country="",
        min_fill_seconds=0,
        agents=1,
        capacity_per_slot=10,
        sms_confirmation=True,
    )
    page = admin.client.get(f"/callback/{line['id']}").text
    stamp = re.search(r'name="stamp" value="([^"]+)"', page)
    assert stamp, page
    asked = admin.client.post(
        f"/callback/{line['id']}",
        data={"phone": "06 12 34 56 78", "when": "now", "stamp": stamp.group(1)},
        headers={"Accept": "application/json"},
    )
    assert asked.status_code == 201, asked.text
    [call] = twilio_api.calls(f"/Accounts/{ACCOUNT}/Messages.json")
    form = call.form()
    assert (form["To"], form["From"]) == (["+33612345678"], [NUMBER])
    factory = admin.client.app.state.session_factory
    with factory() as session:
        callback = session.scalars(select(CallbackRequest)).one()
    assert callback.confirmation == "queued"
    texted = [m for m in thread(admin, callback.conversation_id) if m["channel_id"] == ch["id"]]
    assert [(m["status"], m["provider_message_id"]) for m in texted] == [("sent", REPLY_SID)]
    assert form["Body"] == [texted[0]["text"]]


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Erk"
    "Jggg=="
)
