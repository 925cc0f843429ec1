"""The email channel end to end: relays' HTTP hook, the SMTP receiving server, replies sent by
SMTP that thread back, bounces, auto-replies and mail that cannot be read."""

from __future__ import annotations

import base64
import smtplib
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import select

from filrouge.channels.email.inbound import max_mail_bytes, normalised_mail
from filrouge.channels.email.parse import parse_email
from filrouge.channels.email.smtpd import start_smtpd
from filrouge.core.models import Attachment, Message
from helpers import shared_data, shared_mail_files
from smtp_sink import free_port, smtp_sink

SUPPORT = "support@maison-lumiere.test"


def mail(
    subject: str = "Ma lampe est cassée",
    body: str = "Bonjour,\nLa lampe reçue hier est cassée.\nJeanne",
    sender: str = "Jeanne Martin <jeanne.martin@example.test>",
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.test")
    message["Date"] = "Mon, 01 Jun 2026 09:00:00 +0200"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def mail_with_attachment_of(size: int, subject: str = "Video du colis") -> bytes:
    """A mail carrying ``size`` zero bytes (at least) as a video, CRLF, no line starting with a
    dot. Built in one piece: the base64 lines of zeros are all alike, so no encoder runs."""
    head = (
        "From: Jeanne Martin <jeanne.martin@example.test>\r\n"
        f"To: {SUPPORT}\r\nSubject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='example.test')}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="part"\r\n\r\n'
        "--part\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLa video du colis.\r\n"
        "--part\r\nContent-Type: video/mp4\r\nContent-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="colis.mp4"\r\n\r\n'
    )
    lines = -(-size // 57)  # 57 bytes make a line of 76 letters
    return b"".join([head.encode(), *[b"A" * 76 + b"\r\n"] * lines, b"--part--\r\n"])


@pytest.fixture(scope="module")
def mail_of_60_mb() -> bytes:
    return mail_with_attachment_of(60 * 1024 * 1024)  # built once for the module


def nothing_stored(factory: Any, settings: Any) -> bool:
    """No message row, no attachment row, no attachment file: nothing half-written."""
    with factory() as session:
        rows = (
            session.scalars(select(Message.id)).all() + session.scalars(select(Attachment.id)).all()
        )
    files = [p for p in settings.attachments_dir.rglob("*") if p.is_file()]
    return not rows and not files


@pytest.fixture
def email_channel(channel: Any) -> dict[str, Any]:
    return dict(channel("email", "Support", address=SUPPORT))


def hand_over(client: Any, channel: dict[str, Any], raw: bytes, **params: Any) -> Any:
    return client.post(
        f"/hooks/email/{channel['id']}",
        content=raw,
        headers={"Content-Type": "message/rfc822"},
        params={"token": channel["inbound_token"], **params},
    )


def thread(admin: Any, conversation_id: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/api/v1/conversations/{conversation_id}").json()["messages"])


def test_it_stores_a_relayed_mail_once_with_its_original(client, admin, email_channel):
    raw = mail()
    stored = hand_over(client, email_channel, raw)
    assert stored.status_code == 201, stored.text
    again = hand_over(client, email_channel, raw)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    detail = admin.get(f"/api/v1/conversations/{stored.json()['conversation_id']}").json()
    assert detail["subject"] == "Ma lampe est cassée"
    (message,) = detail["messages"]
    assert "La lampe reçue hier est cassée." in message["text"]
    original = next(a for a in message["attachments"] if a["filename"] == "original.eml")
    assert admin.get(f"/api/v1/attachments/{original['id']}").content == raw


def test_it_accepts_the_token_as_a_header_or_an_api_token(client, admin, email_channel):
    by_header = client.post(
        f"/hooks/email/{email_channel['id']}",
        content=mail(),
        headers={
            "Content-Type": "message/rfc822",
            "X-Filrouge-Token": email_channel["inbound_token"],
        },
    )
    assert by_header.status_code == 201
    by_api_token = admin.post(
        f"/hooks/email/{email_channel['id']}",
        content=mail(),
        headers={"Content-Type": "message/rfc822"},
    )
    assert by_api_token.status_code == 201


def test_it_refuses_a_mail_without_the_right_token_and_stores_nothing(
    client, admin, email_channel, channel, make_caller
):
    other = channel("email", "Autre", address="autre@maison-lumiere.test")
    url = f"/hooks/email/{email_channel['id']}"
    rfc822 = {"Content-Type": "message/rfc822"}
    assert client.post(url, content=mail(), headers=rfc822).status_code == 401
    wrong = client.post(url, content=mail(), headers=rfc822, params={"token": "frin_nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_token"
    crossed = client.post(
        url, content=mail(), headers=rfc822, params={"token": other["inbound_token"]}
    )
    assert crossed.status_code == 401
    contributor = make_caller("contributor", email="expert@example.test")
    assert contributor.post(url, content=mail(), headers=rfc822).status_code == 403
    assert admin.get("/api/v1/conversations").json()["items"] == []


def test_it_explains_what_is_wrong_with_a_bad_delivery(client, email_channel, channel):
    api = channel("api", "API")
    not_email = hand_over(client, api, mail())
    assert not_email.status_code == 422
    assert not_email.json()["error"]["code"] == "not_an_email_channel"
    json_body = client.post(
        f"/hooks/email/{email_channel['id']}",
        json={"text": "hi"},
        params={"token": email_channel["inbound_token"]},
    )
    assert json_body.status_code == 415
    assert hand_over(client, email_channel, b"  \r\n").status_code == 422


def test_it_shows_agents_western_european_mail_as_its_sender_wrote_it(client, admin, email_channel):
    name = base64.b64encode("Françoise Œuvray".encode("iso-8859-15")).decode()
    raw = (
        f"From: =?iso-8859-15?B?{name}?= <francoise@example.test>\r\nTo: {SUPPORT}\r\n".encode()
        + b"Subject: =?windows-1252?Q?Remboursement_de_49_=80_=96_commande_n=B0_7?=\r\n"
        b"Message-ID: <latin@example.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=windows-1252\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Bonjour,\r\nJ'attends toujours les 49 =80 =96 l=92avoir promis.\r\nFran=E7oise\r\n"
    )
    stored = hand_over(client, email_channel, raw)
    assert stored.status_code == 201, stored.text
    detail = admin.get(f"/api/v1/conversations/{stored.json()['conversation_id']}").json()
    assert detail["subject"] == "Remboursement de 49 € – commande n° 7"
    assert detail["customer"]["name"] == "Françoise Œuvray"
    (message,) = detail["messages"]
    assert message["text"] == "Bonjour,\nJ'attends toujours les 49 € – l’avoir promis.\nFrançoise"


def test_it_stores_a_mail_received_by_smtp_byte_for_byte(admin, email_channel, factory, settings):
    lines = [
        b"From: Jeanne Martin <jeanne.martin@example.test>",
        f"To: {SUPPORT}".encode(),
        b"Subject: Points",
        b"Message-ID: <points@example.test>",
        b"",
        b".Une ligne qui commence par un point.",
        b".",
        b"..deux points",
        b"Une phrase finie.",
        b"x" * (1536 * 1024) + b".",  # longer than what is read at once: in several pieces
        b"fin sans saut de ligne\rni \n LF seul.",
        b"Merci.",
        b"",
    ]
    raw = b"\r\n".join(lines)
    port = free_port()
    controller = start_smtpd(factory, settings, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("jeanne.martin@example.test", [SUPPORT], raw)  # dot-stuffs the data
            after = mail(subject="Ensuite", sender="paul@example.test")
            smtp.sendmail("paul@example.test", [SUPPORT], after)  # the session goes on
    finally:
        controller.stop()
    conversations = admin.get("/api/v1/conversations").json()["items"]
    points = next(c for c in conversations if c["subject"] == "Points")
    (message,) = thread(admin, points["id"])
    original = next(a for a in message["attachments"] if a["filename"] == "original.eml")
    assert admin.get(f"/api/v1/attachments/{original['id']}").content == raw
    assert message["text"].startswith(".Une ligne qui commence par un point.\n.\n..deux points")
    assert {c["subject"] for c in conversations} == {"Points", "Ensuite"}


def test_it_keeps_a_mail_it_cannot_read_and_flags_it(client, admin, email_channel):
    garbage = b"\x00\x01\x02 this is not a mail \xff\xfe" * 10
    stored = hand_over(client, email_channel, garbage)
    assert stored.status_code == 201, stored.text
    (message,) = thread(admin, stored.json()["conversation_id"])
    assert message["flag"] == "unreadable"
    (original,) = message["attachments"]
    assert admin.get(f"/api/v1/attachments/{original['id']}").content == garbage
    assert hand_over(client, email_channel, garbage).json()["duplicate"] is True


def test_it_ingests_every_real_mail_of_the_shared_fixtures(client, admin, email_channel, settings):
    files = shared_mail_files()
    assert len(files) > 200
    outcomes: dict[int, int] = {}
    keys = set()
    for path in files:
        raw = path.read_bytes()
        if raw.strip():
            keys.add(normalised_mail(email_channel["id"], raw, settings).provider_message_id)
        response = hand_over(client, email_channel, raw)
        outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
        expected = (422,) if not raw.strip() else (200, 201)  # an empty file is refused, named
        assert response.status_code in expected, f"{path}: {response.text[:300]}"
    assert outcomes[201] == len(keys)  # each distinct mail stored once (some share a Message-ID)


def test_it_sends_a_reply_by_smtp_that_threads_the_customers_answer_back(client, admin, channel):
    with smtp_sink() as sink:
        support = channel(
            "email",
            "Support",
            address=SUPPORT,
            from_name="Maison Lumière",
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
        )
        first = mail()
        conversation_id = hand_over(client, support, first).json()["conversation_id"]
        sent = admin.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            json={"text": "Bonjour Jeanne,\n\nNous vous envoyons une autre lampe."},
        )
        assert sent.status_code == 201, sent.text
        (out,) = sink.mails
    customer_id = parse_email(first).message_id
    assert sink.recipients == [["jeanne.martin@example.test"]]
    assert out["From"] == f"Maison Lumière <{SUPPORT}>"
    assert out["Subject"] == "Re: Ma lampe est cassée"
    assert out["In-Reply-To"] == f"<{customer_id}>"
    assert f"<{customer_id}>" in out["References"]
    plain = out.get_body(("plain",)).get_content()
    assert "Nous vous envoyons une autre lampe." in plain
    assert plain.rstrip().endswith("Camille Admin")  # signed, full style on email
    assert "<p>Bonjour Jeanne,</p>" in out.get_body(("html",)).get_content()
    reply = thread(admin, conversation_id)[-1]
    assert reply["status"] == "sent"
    assert reply["provider_message_id"] == out["Message-ID"].strip(" <>")
    answer = mail(subject="Re: Ma lampe est cassée", body="Merci !", In_Reply_To=out["Message-ID"])
    assert hand_over(client, support, answer).json()["conversation_id"] == conversation_id


def test_it_fails_a_reply_the_customers_server_bounced(client, admin, channel):
    with smtp_sink() as sink:
        support = channel(
            "email",
            "Support",
            address=SUPPORT,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
        )
        conversation_id = hand_over(client, support, mail()).json()["conversation_id"]
        admin.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Réponse"})
        ours = sink.mails[0]["Message-ID"].strip(" <>")
    admin.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"})
    bounce_file = shared_data("email", "flanker", "bounce")
    raw = next(
        p.read_bytes()
        for p in sorted(bounce_file.iterdir())
        if parse_email(p.read_bytes()).bounced_message_ids
    )
    original_id = parse_email(raw).bounced_message_ids[0]
    bounced = raw.replace(original_id.encode(), ours.encode())
    stored = hand_over(client, support, bounced)
    assert stored.json()["conversation_id"] == conversation_id
    messages = {m["direction"] + (m["flag"] or ""): m for m in thread(admin, conversation_id)}
    assert messages["outbound"]["status"] == "failed"
    assert messages["outbound"]["error"]
    assert messages["inboundbounce"]["id"] == stored.json()["message_id"]
    conversation = admin.get(f"/api/v1/conversations/{conversation_id}").json()
    assert conversation["status"] == "resolved"  # a bounce never reopens


def test_it_never_reopens_a_resolved_conversation_for_an_out_of_office(
    client, admin, email_channel
):
    first = mail()
    conversation_id = hand_over(client, email_channel, first).json()["conversation_id"]
    admin.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"})
    away = mail(
        subject="Absence du bureau",
        body="Je suis absente jusqu'au 15 juin.",
        Auto_Submitted="auto-replied",
        In_Reply_To=f"<{parse_email(first).message_id}>",
    )
    assert hand_over(client, email_channel, away).json()["conversation_id"] == conversation_id
    detail = admin.get(f"/api/v1/conversations/{conversation_id}").json()
    assert detail["status"] == "resolved"
    assert detail["messages"][-1]["flag"] == "auto_reply"
    real = mail(body="En fait, toujours cassée.", In_Reply_To=f"<{parse_email(first).message_id}>")
    hand_over(client, email_channel, real)
    assert admin.get(f"/api/v1/conversations/{conversation_id}").json()["status"] == "open"


def test_it_receives_mail_by_smtp_for_the_channels_address(admin, email_channel, factory, settings):
    port = free_port()
    controller = start_smtpd(factory, settings, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            refused = smtp.sendmail(
                "jeanne.martin@example.test", ["nobody@maison-lumiere.test", SUPPORT], mail()
            )
            assert list(refused) == ["nobody@maison-lumiere.test"]
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("jeanne.martin@example.test", ["nobody@maison-lumiere.test"], mail())
    finally:
        controller.stop()
    (conversation,) = admin.get("/api/v1/conversations").json()["items"]
    assert conversation["subject"] == "Ma lampe est cassée"
    with factory() as session:
        assert session.scalars(select(Message.channel_id)).all() == [email_channel["id"]]


def test_it_shows_agents_a_mail_it_could_not_read_with_its_original(
    client, admin, email_channel, make_browser
):
    garbage = b"\xff\xfe<script>alert(1)</script> not a mail at all"
    conversation_id = hand_over(client, email_channel, garbage).json()["conversation_id"]
    agent = make_browser("agent", email="lecteur@example.test")
    inbox = agent.get("/inbox?view=all").text
    assert "illisible" in inbox  # "could not be read", in French by default
    page = agent.get(f"/conversations/{conversation_id}").text
    (original,) = thread(admin, conversation_id)[0]["attachments"]
    assert f"/attachments/{original['id']}/source" in page
    source = agent.get(f"/attachments/{original['id']}/source")
    assert source.headers["content-type"] == "text/plain; charset=utf-8"
    assert source.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "<script>alert(1)</script> not a mail at all" in source.text


def test_it_stores_a_truncated_mail_and_one_with_broken_header_encodings(
    client, admin, email_channel
):
    boundary = b"----=_cut"
    truncated = (
        b"From: Jeanne <jeanne@example.test>\r\nSubject: Coupe\r\n"
        b"Message-ID: <cut@example.test>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
        b"--"
        + boundary
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nD\xc3\xa9but du message"
        b"\r\n--"
        + boundary
        + b"\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo"
    )
    cut = hand_over(client, email_channel, truncated)
    assert cut.status_code == 201, cut.text
    assert "Début du message" in thread(admin, cut.json()["conversation_id"])[0]["text"]
    broken = (
        b"From: =?utf-8?B?!!notbase64?= <paul@example.test>\r\n"
        b"Subject: =?x-unknown?Q?caf=E9?= \xe9t\xe9 \xff\r\nMessage-ID: <broken@example.test>\r\n"
        b"Content-Type: text/plain; charset=bogus-charset\r\n\r\nCaf\xe9 cr\xe8me\r\n"
    )
    stored = hand_over(client, email_channel, broken)
    assert stored.status_code == 201, stored.text
    (message,) = thread(admin, stored.json()["conversation_id"])
    assert message["flag"] is None
    assert "Caf" in message["text"]


def test_it_survives_a_mail_bomb_of_nested_parts(client, admin, email_channel):
    depth = 3000
    parts = [b"From: bomb@example.test\r\nMessage-ID: <bomb@example.test>\r\nMIME-Version: 1.0\r\n"]
    for level in range(depth):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\nfond\r\n")
    for level in reversed(range(depth)):
        parts.append(b"--b%d--\r\n" % level)
    stored = hand_over(client, email_channel, b"".join(parts))
    assert stored.status_code == 201, stored.text  # stored (raw if need be), never a crash


def test_it_refuses_a_60_mb_attachment_by_smtp_saying_what_the_limit_is(
    email_channel, factory, settings, mail_of_60_mb
):
    limit = max_mail_bytes(settings)  # the defaults: the attachment limit, 25 MB
    assert limit == settings.max_attachment_bytes == 25 * 1024 * 1024
    port = free_port()
    controller = start_smtpd(factory, settings, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            # a sender that announces the size (MAIL FROM … SIZE=) is refused before sending it
            with pytest.raises(smtplib.SMTPSenderRefused) as announced:
                smtp.sendmail("jeanne.martin@example.test", [SUPPORT], mail_of_60_mb)
            # one that does not is read to the end, the data dropped as it comes, then refused
            assert smtp.mail("jeanne.martin@example.test")[0] == 250
            assert smtp.rcpt(SUPPORT)[0] == 250
            smtp.putcmd("data")
            assert smtp.getreply()[0] == 354
            assert smtp.sock is not None
            smtp.sock.sendall(mail_of_60_mb)
            smtp.sock.sendall(b".\r\n")
            after_data = smtp.getreply()
            assert smtp.noop()[0] == 250  # the session goes on
    finally:
        controller.stop()
    for code, reply in ((announced.value.smtp_code, announced.value.smtp_error), after_data):
        assert code == 552  # permanent: the sender's server bounces it to its sender
        assert b"5.3.4" in reply
        assert f"at most {limit} bytes (25 MB)".encode() in reply  # not aiosmtpd's generic one
    assert nothing_stored(factory, settings)


def test_it_refuses_a_60_mb_attachment_over_the_hook_with_the_limit(
    client, email_channel, factory, settings, mail_of_60_mb
):
    refused = hand_over(client, email_channel, mail_of_60_mb)
    assert refused.status_code == 413
    error = refused.json()["error"]
    assert error["code"] == "request_too_large"
    assert str(settings.max_request_bytes) in error["message"]  # in French, by default
    assert nothing_stored(factory, settings)


def test_it_refuses_a_mail_over_the_attachment_limit_with_a_reason(
    admin, email_channel, factory, settings
):
    limited = settings.model_copy(update={"max_attachment_bytes": 1024 * 1024})
    big = EmailMessage()
    big["From"] = "jeanne@example.test"
    big["To"] = SUPPORT
    big["Subject"] = "Vidéo"
    big.set_content("La vidéo du colis.")
    big.add_attachment(
        b"\x00" * (2 * 1024 * 1024), maintype="video", subtype="mp4", filename="colis.mp4"
    )
    port = free_port()
    controller = start_smtpd(factory, limited, "127.0.0.1", port)
    try:
        with (
            smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp,
            pytest.raises(smtplib.SMTPSenderRefused) as refused,  # at its announced SIZE
        ):
            smtp.sendmail("jeanne@example.test", [SUPPORT], big.as_bytes(policy=policy.SMTP))
    finally:
        controller.stop()
    assert refused.value.smtp_code == 552  # the sender's server bounces it, with the reason
    assert b"at most 1048576 bytes" in refused.value.smtp_error  # the configured limit
    assert admin.get("/api/v1/conversations").json()["items"] == []


def test_it_stores_mail_from_several_connections_at_once_each_with_its_answer(
    admin, email_channel, factory, settings
):
    from concurrent.futures import ThreadPoolExecutor

    limited = settings.model_copy(update={"max_attachment_bytes": 64 * 1024})
    too_big = EmailMessage()
    too_big["From"] = "gros@example.test"
    too_big["Subject"] = "Trop gros"
    too_big.set_content("pièce jointe")
    too_big.add_attachment(b"\x00" * (128 * 1024), maintype="application", subtype="pdf")
    mails = [mail(sender=f"client{n}@example.test", subject=f"Sujet {n}") for n in range(12)]
    mails.append(too_big.as_bytes(policy=policy.SMTP))
    port = free_port()
    controller = start_smtpd(factory, limited, "127.0.0.1", port)

    def send(raw: bytes) -> int:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            try:
                smtp.sendmail("x@example.test", [SUPPORT], raw)
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as refused:
                return int(refused.smtp_code)
            return 250

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            codes = list(pool.map(send, mails + mails[:3]))  # three sent twice
    finally:
        controller.stop()
    assert codes.count(552) == 1
    assert codes.count(250) == 15
    subjects = sorted(
        c["subject"] for c in admin.get("/api/v1/conversations?limit=50").json()["items"]
    )
    assert subjects == sorted(f"Sujet {n}" for n in range(12))  # each stored once
