"""The web contact form: a hosted page per channel, spam defences, an acknowledgement by email,
and the conversation going on by email when the customer answers it."""

from __future__ import annotations

import time
from typing import Any

from filrouge.lib.keys import sign
from smtp_sink import smtp_sink
from test_email_channel import SUPPORT, hand_over, mail, thread


def started(settings: Any, channel_id: int, seconds_ago: int = 10) -> str:
    return sign(settings, f"{channel_id}:{int(time.time()) - seconds_ago}")


def post(client: Any, settings: Any, form: dict[str, Any], **fields: Any) -> Any:
    data = {
        "name": "Jeanne Martin",
        "email": "Jeanne.Martin@Example.test",
        "subject": "Lampe cassée",
        "message": "Bonjour, ma lampe est arrivée cassée.",
        "started": started(settings, form["id"]),
        "submission": "0" * 31 + "1",
        **fields,
    }
    return client.post(f"/forms/{form['id']}", data=data, follow_redirects=False)


def test_it_serves_a_form_that_the_companys_site_may_frame(client, channel):
    form = channel("web_form", "Contact", allowed_origins=["https://www.maison-lumiere.test"])
    page = client.get(f"/forms/{form['id']}")
    assert page.status_code == 200
    assert 'name="website"' in page.text  # the honeypot
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://www.maison-lumiere.test" in policy
    assert "x-frame-options" not in page.headers
    assert client.get("/forms/999").status_code == 404


def test_it_takes_a_message_and_acknowledges_it_by_email(client, admin, channel, settings):
    with smtp_sink() as sink:
        email = channel(
            "email",
            "Support",
            address=SUPPORT,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
        )
        form = channel(
            "web_form", "Contact", reply_channel_id=email["id"], response_time="sous 4 heures"
        )
        sent = post(client, settings, form)
        assert sent.status_code == 200, sent.text
        assert "sous 4 heures" in sent.text
        (acknowledgement,) = sink.mails
    assert acknowledgement["To"] == "Jeanne Martin <jeanne.martin@example.test>"
    body = acknowledgement.get_body(("plain",)).get_content()
    assert "« Lampe cassée »" in body or "“Lampe cassée”" in body
    assert "sous 4 heures" in body
    (conversation,) = admin.get("/api/v1/conversations").json()["items"]
    assert conversation["subject"] == "Lampe cassée"
    messages = thread(admin, conversation["id"])
    assert messages[0]["text"] == "Bonjour, ma lampe est arrivée cassée."
    assert messages[1]["flag"] == "auto_reply"
    assert conversation["first_response_at"] is None  # an acknowledgement is not an answer
    answer = mail(
        subject="Re: Lampe cassée",
        body="J'ajoute une photo.",
        sender="Jeanne Martin <jeanne.martin@example.test>",
        In_Reply_To=acknowledgement["Message-ID"],
    )
    assert hand_over(client, email, answer).json()["conversation_id"] == conversation["id"]


def test_it_stores_a_double_click_once(client, admin, channel, settings):
    form = channel("web_form", "Contact")
    assert post(client, settings, form).status_code == 200
    assert post(client, settings, form).status_code == 200
    (conversation,) = admin.get("/api/v1/conversations").json()["items"]
    assert len(thread(admin, conversation["id"])) == 1


def test_it_keeps_a_photo_sent_with_the_form(client, admin, channel, settings):
    form = channel("web_form", "Contact")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    sent = client.post(
        f"/forms/{form['id']}",
        data={
            "email": "a@example.test",
            "message": "Voici la photo",
            "started": started(settings, form["id"]),
        },
        files=[("files", ("lampe.png", png, "image/png"))],
    )
    assert sent.status_code == 200, sent.text
    (conversation,) = admin.get("/api/v1/conversations").json()["items"]
    (photo,) = thread(admin, conversation["id"])[0]["attachments"]
    assert (photo["filename"], photo["content_type"]) == ("lampe.png", "image/png")


def test_it_refuses_what_looks_automated_or_forged_and_stores_nothing(
    client, admin, channel, settings
):
    form = channel("web_form", "Contact")
    honeypot = post(client, settings, form, website="http://spam.example")
    assert honeypot.status_code == 422
    too_fast = post(client, settings, form, started=started(settings, form["id"], seconds_ago=0))
    assert too_fast.status_code == 422
    forged = post(client, settings, form, started=f"{form['id']}:{int(time.time()) - 10}.deadbeef")
    assert forged.status_code == 422
    assert "expiré" in forged.text
    other_form = channel("web_form", "Autre")
    borrowed = post(client, settings, form, started=started(settings, other_form["id"]))
    assert borrowed.status_code == 422
    bad_email = post(client, settings, form, email="pas-une-adresse")
    assert bad_email.status_code == 422
    assert "pas-une-adresse" in bad_email.text  # the form comes back filled in
    assert admin.get("/api/v1/conversations").json()["items"] == []


def test_it_limits_posts_from_one_address(client, admin, channel, settings):
    form = channel("web_form", "Contact")
    for number in range(5):
        sent = post(
            client, settings, form, submission=f"{number:032x}", message=f"Message {number}"
        )
        assert sent.status_code == 200
    refused = post(client, settings, form, submission=f"{99:032x}", message="Encore un")
    assert refused.status_code == 429
    assert len(admin.get("/api/v1/conversations").json()["items"]) == 1
