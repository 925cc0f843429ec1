"""Click-to-call: the public "call me back" page, slots within opening hours and capacity,
the agents' queue, placing the call, outcomes and retries."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select, update

from fake_provider import fake_provider
from filrouge.channels.callback.form import make_stamp
from filrouge.channels.callback.hours import WEEKDAYS, read_config, slot_starts
from filrouge.core.actions.callbacks import offered_slots
from filrouge.core.models import CallbackRequest, ChannelAccount, Conversation, Event, Identity
from filrouge.jobs.callbacks import sweep_callback_retries
from filrouge.lib.keys import installation_key
from filrouge.lib.timeutil import utcnow

ALWAYS_OPEN = {
    "hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS},
    "holidays_country": "",
    "min_fill_seconds": 0,
    "agents": 1,
    "capacity_per_slot": 10,
    "max_requests_per_ip_per_hour": 100,
}
STAMP = re.compile(r'name="stamp" value="([^"]+)"')
JSON = {"Accept": "application/json"}


def callback_channel(channel: Any, **settings: Any) -> dict[str, Any]:
    created: dict[str, Any] = channel("callback", "Rappel", **{**ALWAYS_OPEN, **settings})
    return created


def stamp_of(client: Any, channel_id: int) -> str:
    page = client.get(f"/callback/{channel_id}")
    assert page.status_code == 200, page.text
    match = STAMP.search(page.text)
    assert match, page.text
    return match.group(1)


def ask(client: Any, channel_id: int, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    form = {"phone": "06 12 34 56 78", "when": "now", "stamp": stamp_of(client, channel_id)}
    form.update(fields)
    return client.post(f"/callback/{channel_id}", data=form, headers=headers or {})


def callbacks(factory: Any) -> list[CallbackRequest]:
    with factory() as session:
        return list(session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


def count(factory: Any, model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def first_slot(factory: Any, channel_id: int) -> datetime:
    with factory() as session:
        channel = session.get_one(ChannelAccount, channel_id)
        return offered_slots(session, channel)[0].start


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_due(factory: Any, callback_id: int, **values: Any) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(CallbackRequest).where(CallbackRequest.id == callback_id).values(**values)
        )


# --- the customer's request ------------------------------------------------------------------


def test_it_turns_a_request_for_now_into_a_callback_conversation(client, channel, factory):
    ch = callback_channel(channel)
    response = ask(client, ch["id"], name="Léa Martin", note="Ma commande 1234")
    assert response.status_code == 200, response.text
    assert "as soon as possible" in response.text or "dès que possible" in response.text
    [callback] = callbacks(factory)
    assert (callback.phone, callback.status, callback.attempts) == ("+33612345678", "requested", 0)
    assert abs(callback.due_at - utcnow()) < timedelta(minutes=1)
    with factory() as session:
        conversation = session.get_one(Conversation, callback.conversation_id)
        identity = session.scalar(select(Identity))
    assert conversation.channel_id == ch["id"]
    assert identity is not None
    assert (identity.kind, identity.value, identity.verified) == ("phone", "+33612345678", False)


def test_it_books_a_slot_and_answers_json_to_a_script(client, channel, factory):
    ch = callback_channel(channel)
    slot = first_slot(factory, ch["id"])
    response = ask(client, ch["id"], headers=JSON, when=z(slot), phone="+33 1 42 68 53 00")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["due_at"] == z(slot)
    assert body["asap"] is False
    [callback] = callbacks(factory)
    assert (callback.due_at, callback.phone) == (slot, "+33142685300")


def test_it_offers_slots_only_within_opening_hours_and_never_on_a_holiday():
    config = read_config({"hours": {"mon": [["09:00", "12:00"]], "wed": [["14:00", "15:00"]]}})
    monday = datetime(2026, 7, 13, 6, 0, tzinfo=UTC)  # 08:00 in Paris; the 14th is a holiday
    starts = list(slot_starts(config, monday))
    local = [s.astimezone(config.zone).strftime("%a %d %H:%M") for s in starts]
    assert local[:8] == [
        "Mon 13 09:00",
        "Mon 13 09:30",
        "Mon 13 10:00",
        "Mon 13 10:30",
        "Mon 13 11:00",
        "Mon 13 11:30",
        "Wed 15 14:00",
        "Wed 15 14:30",
    ]
    assert local[8] == "Mon 20 09:00"
    bastille = read_config({"hours": {"tue": [["09:00", "10:00"]]}})
    assert not [s for s in slot_starts(bastille, monday) if s.day == 14]
    no_holidays = read_config({"hours": {"tue": [["09:00", "10:00"]]}, "holidays_country": ""})
    assert [s for s in slot_starts(no_holidays, monday) if s.day == 14]


def test_it_stops_offering_a_full_slot_and_refuses_it_clearly(client, channel, factory):
    ch = callback_channel(channel, capacity_per_slot=2)
    slot = first_slot(factory, ch["id"])
    for phone in ("0612345678", "0612345679"):
        assert ask(client, ch["id"], headers=JSON, when=z(slot), phone=phone).status_code == 201
    assert first_slot(factory, ch["id"]) > slot
    refused = ask(client, ch["id"], headers=JSON, when=z(slot), phone="0612345670")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "slot_full"
    page = ask(client, ch["id"], when=z(slot), phone="0612345670")
    assert page.status_code == 409
    assert 'role="alert"' in page.text
    assert len(callbacks(factory)) == 2


def test_it_refuses_a_slot_outside_opening_hours(client, channel, factory):
    ch = channel("callback", "Rappel", min_fill_seconds=0, hours={"mon": [["09:00", "10:00"]]})
    sunday_night = z(datetime(2030, 6, 2, 1, 0, tzinfo=UTC))
    response = ask(client, ch["id"], headers=JSON, when=sunday_night)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "slot_closed"
    bad = ask(client, ch["id"], headers=JSON, when="tomorrow")
    assert bad.json()["error"]["code"] == "invalid_slot"
    assert count(factory, CallbackRequest) == count(factory, Conversation) == 0


def test_it_refuses_now_when_the_line_is_closed(client, channel, factory):
    ch = callback_channel(channel, hours={})  # never open
    response = ask(client, ch["id"], headers=JSON, when="now")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "callback_closed_now"
    assert count(factory, CallbackRequest) == 0


@pytest.mark.parametrize("phone", ["12", "not a number", "+33 6", "06 12 34 56 78 90 12"])
def test_it_refuses_a_phone_number_that_is_not_one(client, channel, factory, phone):
    ch = callback_channel(channel)
    response = ask(client, ch["id"], headers=JSON, phone=phone)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_phone", "phone")
    page = ask(client, ch["id"], phone=phone)
    assert page.status_code == 422
    assert 'role="alert"' in page.text
    assert count(factory, CallbackRequest) == count(factory, Conversation) == 0


def test_it_refuses_forged_posts_and_writes_nothing(client, channel, factory):
    ch = callback_channel(channel)
    other = callback_channel(channel)
    good = stamp_of(client, ch["id"])
    seconds, _, signature = good.partition(".")
    forged = [
        {"stamp": ""},
        {"stamp": f"{int(seconds) - 60}.{signature}"},  # signature of another time
        {"stamp": stamp_of(client, other["id"])},  # another channel's page
        {"stamp": f"{seconds}.{'0' * 64}"},
        {"website": "http://spam.example"},  # the honeypot
    ]
    for fields in forged:
        response = ask(client, ch["id"], headers=JSON, **fields)
        assert response.status_code == 400, fields
        assert response.json()["error"]["code"] == "form_refused"
    assert count(factory, CallbackRequest) == count(factory, Conversation) == 0


def test_it_refuses_a_form_posted_too_fast_or_too_late(client, channel, settings):
    ch = channel("callback", "Rappel", **{**ALWAYS_OPEN, "min_fill_seconds": 3})
    fresh = stamp_of(client, ch["id"])  # a robot posts at once
    assert ask(client, ch["id"], headers=JSON, stamp=fresh).status_code == 400
    key = installation_key(settings)
    stale = make_stamp(ch["id"], key, utcnow() - timedelta(hours=3))
    assert ask(client, ch["id"], headers=JSON, stamp=stale).status_code == 400
    typed = make_stamp(ch["id"], key, utcnow() - timedelta(seconds=20))
    assert ask(client, ch["id"], headers=JSON, stamp=typed).status_code == 201


def test_it_limits_requests_per_address(client, channel, factory):
    ch = callback_channel(channel, max_requests_per_ip_per_hour=2)
    for phone in ("0612345671", "0612345672"):
        assert ask(client, ch["id"], headers=JSON, phone=phone).status_code == 201
    refused = ask(client, ch["id"], headers=JSON, phone="0612345673")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_callbacks"
    assert count(factory, CallbackRequest) == 2


def test_it_has_no_page_for_a_channel_that_is_not_a_callback_line(client, channel):
    api = channel("api")
    assert client.get(f"/callback/{api['id']}").status_code == 404
    assert client.get("/callback/999").status_code == 404


def test_it_records_that_no_sms_confirmation_could_be_sent(client, channel, factory):
    ch = callback_channel(channel, sms_confirmation=True)
    assert ask(client, ch["id"], headers=JSON).status_code == 201
    [callback] = callbacks(factory)
    assert callback.confirmation == "unavailable"
    with factory() as session:
        actions = list(
            session.scalars(select(Event.action).where(Event.subject_type == "callback"))
        )
    assert "callback.confirmation_not_sent" in actions


# --- the agents' queue -----------------------------------------------------------------------


def requested(client: Any, channel_id: int, *phones: str) -> list[int]:
    for phone in phones:
        assert ask(client, channel_id, headers=JSON, phone=phone).status_code == 201
    return [c.id for c in callbacks_of(client, channel_id)]


def callbacks_of(client: Any, channel_id: int) -> list[CallbackRequest]:
    factory = client.app.state.session_factory
    with factory() as session:
        query = select(CallbackRequest).where(CallbackRequest.channel_id == channel_id)
        return list(session.scalars(query.order_by(CallbackRequest.id)))


def queue(browser: Any) -> list[tuple[int, str]]:
    page = browser.get("/callbacks")
    assert page.status_code == 200, page.text
    rows = re.findall(r'id="callback-(\d+)" data-state="(\w+)"', page.text)
    return [(int(id_), state) for id_, state in rows]


def test_it_lists_the_queue_by_due_time_with_due_and_overdue_marked(
    client, channel, factory, make_browser
):
    ch = callback_channel(channel)
    a, b, c = requested(client, ch["id"], "0612345671", "0612345672", "0612345673")
    now = utcnow()
    set_due(factory, a, due_at=now + timedelta(hours=1))
    set_due(factory, b, due_at=now - timedelta(hours=2))
    set_due(factory, c, due_at=now - timedelta(minutes=5))
    agent = make_browser("agent")
    assert queue(agent) == [(b, "overdue"), (c, "due"), (a, "upcoming")]


def test_it_shows_the_number_to_dial_in_manual_mode(client, channel, factory, make_browser):
    ch = callback_channel(channel)
    [callback_id] = requested(client, ch["id"], "0612345678")
    agent = make_browser("agent")
    assert agent.post(f"/callbacks/{callback_id}/call").status_code == 303
    [callback] = callbacks(factory)
    assert (callback.status, callback.attempts, callback.call_id) == ("calling", 1, None)
    assert 'href="tel:+33612345678"' in agent.get("/callbacks").text


def test_it_places_the_call_on_twilio_with_the_right_fields_and_auth(
    client, channel, factory, make_browser
):
    with fake_provider() as twilio:
        twilio.answers = [(201, {"sid": "CA0123456789", "status": "queued"})]
        ch = callback_channel(
            channel,
            telephony="twilio",
            base_url=twilio.url.removesuffix("/hook"),
            account_sid="AC42",
            auth_token="s3cret",
            from_number="+33180000000",
            agent_number="+33180000001",
        )
        [callback_id] = requested(client, ch["id"], "06 12 34 56 78")
        agent = make_browser("agent")
        assert agent.post(f"/callbacks/{callback_id}/call").status_code == 303
        [request] = twilio.received
    assert request.path == "/2010-04-01/Accounts/AC42/Calls.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC42:s3cret").decode()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert form == {
        "To": "+33180000001",
        "From": "+33180000000",
        "Twiml": '<Response><Dial callerId="+33180000000"><Number>+33612345678</Number>'
        "</Dial></Response>",
    }
    [callback] = callbacks(factory)
    assert (callback.status, callback.call_id, callback.call_error) == (
        "calling",
        "CA0123456789",
        None,
    )


def test_it_keeps_the_number_to_dial_when_twilio_refuses_the_call(
    client, channel, factory, make_browser
):
    with fake_provider() as twilio:
        twilio.answers = [(401, {"code": 20003, "message": "Authenticate"})]
        ch = callback_channel(
            channel,
            telephony="twilio",
            base_url=twilio.url.removesuffix("/hook"),
            account_sid="AC42",
            auth_token="wrong",
            from_number="+33180000000",
            twiml_url="https://example.test/twiml",
        )
        [callback_id] = requested(client, ch["id"], "0612345678")
        agent = make_browser("agent")
        agent.post(f"/callbacks/{callback_id}/call")
        form = parse_qs(twilio.received[0].body.decode())
    assert form["To"] == ["+33612345678"]
    assert form["Url"] == ["https://example.test/twiml"]
    [callback] = callbacks(factory)
    assert callback.call_id is None
    assert "Authenticate" in (callback.call_error or "")
    assert 'href="tel:+33612345678"' in agent.get("/callbacks").text


def test_it_logs_the_outcome_as_a_note_and_closes_the_callback(
    client, channel, factory, make_browser, admin
):
    ch = callback_channel(channel)
    [callback_id] = requested(client, ch["id"], "0612345678")
    agent = make_browser("agent")
    agent.post(f"/callbacks/{callback_id}/call")
    done = agent.post(
        f"/callbacks/{callback_id}/outcome", {"outcome": "reached", "note": "Colis renvoyé"}
    )
    assert done.status_code == 303
    [callback] = callbacks(factory)
    assert (callback.status, callback.outcome_note) == ("reached", "Colis renvoyé")
    messages = admin.get(f"/api/v1/conversations/{callback.conversation_id}").json()["messages"]
    assert any("Colis renvoyé" in m["text"] for m in messages if m["direction"] == "note")
    assert queue(agent) == []
    assert agent.post(f"/callbacks/{callback_id}/call").status_code == 409
    again = agent.post(f"/callbacks/{callback_id}/outcome", {"outcome": "wrong_number"})
    assert again.status_code == 409


def test_it_retries_a_missed_callback_per_the_policy(client, channel, factory, make_browser):
    ch = callback_channel(channel, retry_minutes=[15, 60], max_attempts=2)
    [callback_id] = requested(client, ch["id"], "0612345678")
    agent = make_browser("agent")
    agent.post(f"/callbacks/{callback_id}/call")
    agent.post(f"/callbacks/{callback_id}/outcome", {"outcome": "no_answer"})
    [callback] = callbacks(factory)
    assert callback.status == "no_answer"
    assert callback.next_attempt_at is not None
    assert abs(callback.next_attempt_at - utcnow() - timedelta(minutes=15)) < timedelta(minutes=1)
    assert queue(agent) == [(callback_id, "retry")]
    assert sweep_callback_retries.call_local() == 0  # not due yet
    due = utcnow() - timedelta(minutes=1)
    set_due(factory, callback_id, next_attempt_at=due)
    assert sweep_callback_retries.call_local() == 1
    [callback] = callbacks(factory)
    assert (callback.status, callback.next_attempt_at) == ("requested", None)
    assert abs(callback.due_at - due) < timedelta(seconds=1)
    assert queue(agent) == [(callback_id, "due")]
    agent.post(f"/callbacks/{callback_id}/call")
    agent.post(f"/callbacks/{callback_id}/outcome", {"outcome": "no_answer"})
    [callback] = callbacks(factory)
    assert (callback.status, callback.attempts, callback.next_attempt_at) == ("no_answer", 2, None)
    assert queue(agent) == []  # no attempt left
    assert sweep_callback_retries.call_local() == 0


def test_it_reschedules_a_callback_to_an_offered_slot(client, channel, factory, make_browser):
    ch = callback_channel(channel)
    [callback_id] = requested(client, ch["id"], "0612345678")
    agent = make_browser("agent")
    missing = agent.post(f"/callbacks/{callback_id}/outcome", {"outcome": "rescheduled"})
    assert missing.status_code == 422
    slot = first_slot(factory, ch["id"]) + timedelta(hours=2)
    moved = agent.post(
        f"/callbacks/{callback_id}/outcome", {"outcome": "rescheduled", "slot": z(slot)}
    )
    assert moved.status_code == 303
    [callback] = callbacks(factory)
    assert (callback.status, callback.due_at, callback.attempts) == ("rescheduled", slot, 0)
    assert queue(agent) == [(callback_id, "upcoming")]


def test_it_refuses_an_unknown_outcome(client, channel, make_browser):
    ch = callback_channel(channel)
    [callback_id] = requested(client, ch["id"], "0612345678")
    agent = make_browser("agent")
    response = agent.post(f"/callbacks/{callback_id}/outcome", {"outcome": "hung_up"})
    assert response.status_code == 422
