"""GDPR: erasing a customer leaves no trace of the person anywhere (rows, files, the SQLite
file itself) while the statistics survive; exporting gives everything held on them; both are
in the event log with who and why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from filrouge.core.audit import Actor
from filrouge.core.blobs import BlobStore
from filrouge.core.models import Base, Conversation, Event, Message, WebhookDelivery, Workspace
from filrouge.core.retention import apply_retention, months_before, set_retention
from filrouge.db import transaction
from filrouge.lib.timeutil import utcnow
from helpers import receive, thread

NAME = "Ottoline Brindlewood"
EMAIL = "ottoline.brindlewood@exemple-rgpd.test"
PHONE = "+33647219358"
NATIONAL = "06 47 21 93 58"
# Lower case: the stringified rows are searched in lower case, so "OTTOLINE" is found too.
TRACES = ("ottoline", "brindlewood", "33647219358", "0647219358", "06 47 21 93 58", "647219358")
SUPPORT = "support@maison-lumiere.test"
TWILIO_TOKEN = "twilio-test-auth-token"
SITE = "https://boutique.example"
INVOICE = b"%PDF-1.4 facture de Ottoline Brindlewood, 12 rue des Lilas"
SHARED_PDF = b"%PDF-1.4 conditions generales de vente, les memes pour tous"
ALWAYS_OPEN = {
    "hours": {
        day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
    "holidays_country": "",
    "min_fill_seconds": 0,
    "capacity_per_slot": 10,
}
REASON = "Demande écrite reçue le 3 décembre"


# --- the customer's whole life, through the real entry points ----------------------------------


def mail_from(sender: str, subject: str, body: str, files: dict[str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.exemple.test")
    message.set_content(body)
    for filename, content in files.items():
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    return bytes(message)


def hand_over(client: Any, channel: dict[str, Any], raw: bytes) -> dict[str, Any]:
    response = client.post(
        f"/hooks/email/{channel['id']}",
        content=raw,
        headers={"Content-Type": "message/rfc822"},
        params={"token": channel["inbound_token"]},
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def twilio_sms(client: Any, channel_id: int, sender: str, body: str) -> None:
    params = {
        "MessageSid": "SM" + hashlib.md5(body.encode()).hexdigest(),
        "AccountSid": "ACf54dd7a47a8011d65b54d472a7190549",
        "From": sender,
        "To": "+3197014204768",
        "Body": body,
        "NumMedia": "0",
    }
    url = f"http://testserver/hooks/sms/{channel_id}"
    data = url + "".join(name + value for name, value in sorted(params.items()))
    signature = base64.b64encode(
        hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()
    response = client.post(
        f"/hooks/sms/{channel_id}",
        content=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    assert response.status_code == 200, response.text


def chat_typing_the_email(client: Any, channel_id: int) -> None:
    with client.websocket_connect(f"/hooks/chat/{channel_id}/ws", headers={"origin": SITE}) as ws:
        ws.send_json({"type": "hello", "token": None, "locale": "fr"})
        assert ws.receive_json()["type"] == "welcome"
        typed = "Je suis " + EMAIL.replace("ottoline", "Ottoline") + ", rappelez-moi au " + NATIONAL
        ws.send_json({"type": "message", "text": typed, "client_id": "c1"})
        ws.send_json({"type": "contact", "name": "", "email": EMAIL})
        for _ in range(20):
            if ws.receive_json()["type"] == "contact":
                break


def callback_request(client: Any, channel_id: int) -> None:
    page = client.get(f"/callback/{channel_id}")
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.text)
    assert stamp, page.text
    form = {
        "phone": NATIONAL,
        "when": "now",
        "stamp": stamp.group(1),
        "name": NAME,
        "note": f"C'est {NAME}, au sujet de ma facture",
    }
    assert client.post(f"/callback/{channel_id}", data=form).status_code == 200


@pytest.fixture
def channels(channel: Any) -> dict[str, dict[str, Any]]:
    return {
        "email": channel("email", "Support", address=SUPPORT),
        "sms": channel(
            "sms",
            "SMS",
            account_sid="ACf54dd7a47a8011d65b54d472a7190549",
            auth_token=TWILIO_TOKEN,
            phone_number="+3197014204768",
        ),
        "chat": channel("chat", "Chat", allowed_origins=[SITE]),
        "callback": channel("callback", "Rappel", **ALWAYS_OPEN),
    }


@pytest.fixture
def life(admin: Any, channels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Ottoline writes by email (an invoice, and the sales terms everyone gets), by SMS,
    asks to be called back, types her email in the chat; she has an order; the SMS customer is
    merged into her; someone else sends the same sales terms."""
    client = admin.client
    mail = mail_from(
        f"{NAME} <{EMAIL}>",
        f"Facture de {NAME}",
        f"Bonjour,\nmerci de me rappeler au {NATIONAL}.\n{NAME}",
        {"facture-brindlewood.pdf": INVOICE, "cgv.pdf": SHARED_PDF},
    )
    by_email = hand_over(client, channels["email"], mail)
    other = hand_over(
        client,
        channels["email"],
        mail_from(
            "Paul Durand <paul.durand@example.test>",
            "CGV",
            "Voici les CGV",
            {"cgv.pdf": SHARED_PDF},
        ),
    )
    twilio_sms(client, channels["sms"]["id"], PHONE, f"Bonjour, ici {NAME}")
    callback_request(client, channels["callback"]["id"])
    chat_typing_the_email(client, channels["chat"]["id"])
    customer_id = by_email["customer_id"]
    by_phone = admin.get(f"/api/v1/customers?q={PHONE[1:]}").json()["items"]
    sms_customer = next(c["id"] for c in by_phone if c["id"] != customer_id)
    merged = admin.post(f"/api/v1/customers/{customer_id}/merge", json={"other_id": sms_customer})
    assert merged.status_code == 200, merged.text
    admin.patch(
        f"/api/v1/customers/{customer_id}",
        json={"attributes": {"ville": "Brindlewood-sur-Mer", "vip": True}},
    )
    admin.post(
        f"/api/v1/conversations/{by_email['conversation_id']}/notes",
        json={"text": f"{NAME} rappellera demain"},
    )
    order = admin.post(
        f"/api/v1/customers/{customer_id}/orders",
        json={"number": "CMD-90210", "ordered_at": "2026-11-02T10:00:00Z", "amount": "89.90"},
    )
    assert order.status_code == 201, order.text
    assert admin.post("/api/v1/duplicates:scan").status_code < 300
    evidence = [e for item in admin.get("/api/v1/duplicates").json() for e in item["evidence"]]
    assert {"kind": "chat_email", "value": EMAIL} in evidence  # the chat visitor who typed it
    return {
        "customer_id": customer_id,
        "tombstone_id": sms_customer,
        "conversation_id": by_email["conversation_id"],
        "other_customer_id": other["customer_id"],
        "other_conversation_id": other["conversation_id"],
    }


# --- looking everywhere ------------------------------------------------------------------------


def rows_mentioning(engine: Engine, traces: tuple[str, ...]) -> list[str]:
    """Every column of every table, stringified (JSON and bytes too), searched in lower case."""
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                for column, value in row.items():
                    written = _as_text(value).lower()
                    found += [f"{table.name}.{column}: {t}" for t in traces if t in written]
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def files_mentioning(folder: Path, traces: tuple[str, ...]) -> list[str]:
    found = []
    for path in folder.rglob("*") if folder.exists() else []:
        if path.is_file():
            content = path.read_bytes().lower()
            found += [f"{path.name}: {t}" for t in traces if t.encode() in content]
    return found


def counts(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return {
            "messages": connection.scalar(select(func.count()).select_from(Message)),
            "conversations": connection.scalar(select(func.count()).select_from(Conversation)),
            "by_channel": sorted(
                connection.execute(
                    select(Message.channel_id, Message.direction, Message.occurred_at)
                ).all()
            ),
        }


def searched(caller: Any) -> list[tuple[str, str]]:
    """What the search box finds of her: by name, email, phone typed nationally, words."""
    found = []
    for typed in (NAME, EMAIL, NATIONAL, PHONE, "brindlewood", "ottol"):
        response = caller.get("/api/v1/search", params={"q": typed})
        assert response.status_code == 200, response.text
        found += [(typed, hit["kind"]) for hit in response.json()["results"]]
    return found


def index_terms(engine: Engine, traces: tuple[str, ...]) -> list[str]:
    """SQLite: the words the FTS5 tables still hold (deleted ones stay until merged)."""
    found = []
    with engine.connect() as connection:
        for table in ("search_messages", "search_customers", "search_orders"):
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_terms "
                f"USING fts5vocab(main, {table}, 'row')"
            )
            terms = connection.exec_driver_sql(f"SELECT term FROM temp.{table}_terms").scalars()
            found += [  # stems too: porter keeps « ottolin » of « ottoline »
                f"{table}: {t}"
                for t in terms
                if len(t) >= 5 and any(trace.startswith(t) for trace in traces)
            ]
    return found


def erase(caller: Any, customer_id: int, reason: str = REASON) -> Any:
    return caller.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": reason})


# --- erasure -----------------------------------------------------------------------------------


def test_it_erases_the_person_from_every_row_and_file(admin, life, engine, settings):
    assert rows_mentioning(engine, TRACES)  # the search does find her before
    assert {kind for _typed, kind in searched(admin)} == {"customer", "message"}
    before = counts(engine)

    response = erase(admin, life["customer_id"])

    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["merged_ids"] == [life["tombstone_id"]]
    assert life["conversation_id"] in erased["closed_conversation_ids"]
    assert rows_mentioning(engine, TRACES) == []
    assert files_mentioning(settings.data_dir, TRACES) == []
    assert searched(admin) == []
    assert counts(engine) == before


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the raw file is SQLite's
def test_it_leaves_no_trace_in_the_sqlite_file_or_its_log(admin, life, engine):
    database = Path(str(engine.url.database))
    with engine.connect() as connection:  # whatever SQLite was built with: freed bytes zeroed
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    assert index_terms(engine, ("ottoline", "brindlewood", "33647219358"))
    assert erase(admin, life["customer_id"]).status_code == 200
    assert index_terms(engine, ("ottoline", "brindlewood", "33647219358", "0647219358")) == []
    for path in (database, database.with_name(database.name + "-wal")):
        content = path.read_bytes().lower() if path.exists() else b""
        assert [t for t in TRACES if t.encode() in content] == [], path.name


def test_it_keeps_what_the_statistics_need(admin, life, factory):
    erase(admin, life["customer_id"])
    messages = thread(admin, life["conversation_id"])
    assert {m["text"] for m in messages} == {"[effacé]"}
    assert {m["direction"] for m in messages} == {"inbound", "note"}
    assert all(m["attachments"] == [] for m in messages)
    detail = admin.get(f"/api/v1/conversations/{life['conversation_id']}").json()
    assert (detail["status"], detail["subject"]) == ("closed", None)


def test_it_keeps_a_file_another_customer_sent_too(admin, life):
    erase(admin, life["customer_id"])
    [message] = thread(admin, life["other_conversation_id"])
    shared = next(a for a in message["attachments"] if a["filename"] == "cgv.pdf")
    assert admin.get(f"/api/v1/attachments/{shared['id']}").content == SHARED_PDF


def test_it_records_who_erased_and_why_without_personal_data(admin, life, factory):
    erase(admin, life["customer_id"])
    with factory() as session:
        [event] = session.scalars(select(Event).where(Event.action == "customer.erased")).all()
    assert (event.actor_kind, event.actor_id) == ("user", admin.user.id)
    assert event.subject_id == life["customer_id"]
    assert event.after is not None
    assert event.after["reason"] == REASON
    assert event.after["messages"] >= 4


def test_it_answers_an_erased_customer_and_its_tombstone_as_erased(admin, life):
    erase(admin, life["customer_id"])
    again = erase(admin, life["customer_id"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "customer_already_erased"
    tombstone = erase(admin, life["tombstone_id"])
    assert tombstone.status_code == 409
    assert tombstone.json()["error"]["code"] == "customer_already_erased"
    shown = admin.get(f"/api/v1/customers/{life['customer_id']}").json()
    assert (shown["name"], shown["identities"], list(shown["attributes"])) == (
        None,
        [],
        ["erased_at"],
    )


def test_it_refuses_to_erase_a_tombstone_of_a_live_customer(admin):
    first = admin.post("/api/v1/customers", json={"name": "A", "identities": []}).json()
    second = admin.post("/api/v1/customers", json={"name": "B", "identities": []}).json()
    admin.post(f"/api/v1/customers/{first['id']}/merge", json={"other_id": second["id"]})
    refused = erase(admin, second["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "customer_merged"
    assert str(first["id"]) in refused.json()["error"]["message"]
    assert admin.get(f"/api/v1/customers/{first['id']}").json()["name"] == "A"


def test_it_refuses_the_erasure_to_agents_and_without_a_reason(admin, make_caller):
    customer = admin.post("/api/v1/customers", json={"name": NAME, "identities": []}).json()
    agent = make_caller("agent")
    assert erase(agent, customer["id"]).status_code == 403
    missing = admin.post(f"/api/v1/customers/{customer['id']}/erase", json={})
    assert missing.status_code == 422
    assert erase(admin, customer["id"], reason="  ").status_code == 422
    assert admin.get(f"/api/v1/customers/{customer['id']}").json()["name"] == NAME


def test_it_refuses_to_merge_into_or_from_an_erased_customer(admin):
    erased = admin.post("/api/v1/customers", json={"name": NAME, "identities": []}).json()
    live = admin.post("/api/v1/customers", json={"name": "Paul", "identities": []}).json()
    erase(admin, erased["id"])
    for target, other in ((erased, live), (live, erased)):
        refused = admin.post(
            f"/api/v1/customers/{target['id']}/merge", json={"other_id": other["id"]}
        )
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "customer_erased"


# --- the event log: redacted once, never otherwise rewritten -----------------------------------


def test_it_lets_the_event_log_be_redacted_once_and_nothing_else(admin, engine):
    admin.post("/api/v1/customers", json={"name": NAME, "identities": []})
    redact = (
        "UPDATE events SET before = NULL, after = NULL, redacted_at = CURRENT_TIMESTAMP "
        "WHERE redacted_at IS NULL"
    )
    with engine.begin() as connection:
        assert connection.execute(text(redact)).rowcount >= 1
    for statement in (
        "UPDATE events SET redacted_at = CURRENT_TIMESTAMP",  # twice
        "UPDATE events SET redacted_at = NULL",
        "DELETE FROM events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    admin.post("/api/v1/customers", json={"name": "Paul", "identities": []})
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE events SET action = 'forged', redacted_at = CURRENT_TIMESTAMP "
                "WHERE redacted_at IS NULL"
            )
        )


# --- export ------------------------------------------------------------------------------------


def test_it_exports_everything_held_on_the_customer_as_a_zip(admin, life, factory):
    response = admin.post(
        f"/api/v1/customers/{life['customer_id']}/export", json={"reason": "Demande d'accès"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    document = json.loads(archive.read("customer.json"))
    assert document["customer"]["name"] == NAME
    assert {i["value"] for i in document["identities"]} >= {EMAIL, PHONE}
    assert [c["id"] for c in document["merged_customers"]] == [life["tombstone_id"]]
    texts = [m["text"] for c in document["conversations"] for m in c["messages"]]
    assert any(f"ici {NAME}" in t for t in texts)  # the SMS, from the merged customer
    assert [o["number"] for o in document["orders"]] == ["CMD-90210"]
    assert [c["phone"] for c in document["callback_requests"]] == [PHONE]
    invoice = next(n for n in archive.namelist() if n.endswith("facture-brindlewood.pdf"))
    assert archive.read(invoice) == INVOICE
    with factory() as session:
        [event] = session.scalars(select(Event).where(Event.action == "customer.exported")).all()
    assert (event.actor_id, (event.after or {}).get("reason")) == (admin.user.id, "Demande d'accès")


def test_it_refuses_the_export_to_agents(admin, make_caller):
    customer = admin.post("/api/v1/customers", json={"name": NAME, "identities": []}).json()
    agent = make_caller("agent")
    url = f"/api/v1/customers/{customer['id']}/export"
    assert agent.post(url, json={"reason": "curiosité"}).status_code == 403
    assert admin.post(url, json={}).status_code == 422


# --- retention ---------------------------------------------------------------------------------


def test_it_anonymises_closed_conversations_older_than_the_policy(
    admin, channel, factory, settings
):
    ch = channel("api")
    old = receive(
        admin,
        ch["id"],
        EMAIL,
        text=f"Bonjour, {NAME}",
        attachments=[
            {"filename": "photo.png", "content_base64": base64.b64encode(INVOICE).decode()}
        ],
    )
    recent = receive(admin, ch["id"], "paul@example.test", hours=1, text="Ma commande")
    still_open = receive(admin, ch["id"], "lea@example.test", hours=2, text="Toujours là ?")
    for conversation in (old, recent):
        admin.patch(
            f"/api/v1/conversations/{conversation['conversation_id']}", json={"status": "closed"}
        )
    with transaction(factory) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id != recent["conversation_id"])
            .values(last_activity_at=utcnow() - timedelta(days=400))
        )
        session.add_all(
            [
                WebhookDelivery(
                    channel_id=ch["id"],
                    kind="sms",
                    digest=f"{days}",
                    body=f"From=%2B33647219358&Body={days}".encode(),
                    received_at=utcnow() - timedelta(days=days),
                    outcome="processed",
                )
                for days in (400, 3)
            ]
        )
        workspace = session.scalars(select(Workspace)).one()
        assert apply_retention(session, workspace, BlobStore(settings.attachments_dir)) is None
        set_retention(session, workspace, 12, Actor.system())

    with transaction(factory) as session:
        workspace = session.scalars(select(Workspace)).one()
        report = apply_retention(session, workspace, BlobStore(settings.attachments_dir))

    assert report is not None
    assert (report.conversations, report.messages, report.attachments) == (1, 1, 1)
    assert report.webhook_deliveries == 1
    with factory() as session:
        bodies = session.scalars(select(WebhookDelivery.body).order_by(WebhookDelivery.id)).all()
    assert bodies == [b"", b"From=%2B33647219358&Body=3"]
    assert [m["text"] for m in thread(admin, old["conversation_id"])] == ["[effacé]"]
    assert [m["text"] for m in thread(admin, recent["conversation_id"])] == ["Ma commande"]
    assert [m["text"] for m in thread(admin, still_open["conversation_id"])] == ["Toujours là ?"]
    assert files_mentioning(settings.data_dir, ("ottoline",)) == []
    with factory() as session:
        [event] = session.scalars(select(Event).where(Event.action == "retention.applied")).all()
    assert (event.after or {})["conversations"] == 1


def test_it_reads_months_on_the_calendar():
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


# --- the customer panel ------------------------------------------------------------------------


def test_it_offers_export_and_erasure_on_the_panel_to_managers_only(admin, make_browser, channel):
    ch = channel("api")
    conversation = receive(admin, ch["id"], EMAIL, text=f"Bonjour, {NAME}")["conversation_id"]
    supervisor = make_browser("supervisor")
    agent = make_browser("agent")
    assert "Effacer ce client" in supervisor.get(f"/conversations/{conversation}").text
    assert "Exporter les données (RGPD)" in supervisor.get(f"/conversations/{conversation}").text
    assert "Effacer ce client" not in agent.get(f"/conversations/{conversation}").text


def test_it_erases_from_the_panel_once_confirmed_and_says_what_it_closed(
    admin, make_browser, channel
):
    ch = channel("api")
    received = receive(admin, ch["id"], EMAIL, text=f"Bonjour, {NAME}")
    customer_id, conversation = received["customer_id"], received["conversation_id"]
    supervisor = make_browser("supervisor")
    url = f"/customers/{customer_id}/erase"

    unconfirmed = supervisor.post(url, {"reason": REASON})
    assert unconfirmed.status_code == 422
    assert "erased_at" not in admin.get(f"/api/v1/customers/{customer_id}").json()["attributes"]
    assert thread(admin, conversation)[0]["text"] == f"Bonjour, {NAME}"

    done = supervisor.post(url, {"reason": REASON, "confirm": "yes"})
    assert done.status_code == 303
    inbox = supervisor.get(done.headers["location"])
    assert f"Le client {customer_id} a été effacé." in inbox.text
    assert f'href="/conversations/{conversation}"' in inbox.text
    assert thread(admin, conversation)[0]["text"] == "[effacé]"


def test_it_downloads_the_export_from_the_panel(admin, make_browser, channel):
    ch = channel("api")
    customer_id = receive(admin, ch["id"], EMAIL, text=f"Bonjour, {NAME}")["customer_id"]
    supervisor = make_browser("supervisor")
    assert supervisor.post(f"/customers/{customer_id}/export", {"reason": ""}).status_code == 422
    download = supervisor.post(f"/customers/{customer_id}/export", {"reason": "Demande d'accès"})
    assert download.status_code == 200
    document = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("customer.json"))
    assert document["conversations"][0]["messages"][0]["text"] == f"Bonjour, {NAME}"


def test_it_lets_an_admin_set_the_retention_policy(make_browser, factory):
    admin_browser = make_browser("admin", email="admin.browser@example.test")
    assert admin_browser.post("/admin/privacy", {"retention": "24"}).status_code == 303
    assert 'value="24"' in admin_browser.get("/admin/privacy").text
    refused = admin_browser.post("/admin/privacy", {"retention": "0"})
    assert refused.status_code == 422
    assert "de 1 à 1200 mois" in refused.text
    assert admin_browser.post("/admin/privacy", {"retention": ""}).status_code == 303
    with factory() as session:
        assert "retention_months" not in session.scalars(select(Workspace)).one().settings


def test_it_sets_and_applies_the_retention_policy_from_the_command_line(engine, tmp_path):
    env = {
        **os.environ,
        "FILROUGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FILROUGE_DATA_DIR": str(tmp_path / "var"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "filrouge.cli", "retention", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    assert "no retention policy" in run("run").stdout
    refused = run("set", "0")
    assert refused.returncode == 1
    assert "1 to 1200 months" in refused.stderr
    assert run("set", "18").stdout.strip() == "kept 18 months"
    assert run("run").stdout.strip() == "0 conversations, 0 messages anonymised"
    assert run("set", "off").returncode == 0
    assert "no retention policy" in run("run").stdout


def test_it_removes_her_address_and_number_where_someone_else_wrote_them(admin, life, channels):
    erase(admin, life["customer_id"])
    [chat] = admin.get(f"/api/v1/conversations?channel_id={channels['chat']['id']}").json()["items"]
    assert chat["customer_id"] != life["customer_id"]  # the visitor was never merged
    texts = [m["text"] for m in thread(admin, chat["id"])]
    assert texts[0] == "Je suis [effacé], rappelez-moi au [effacé]"
    visitor = admin.get(f"/api/v1/customers/{chat['customer_id']}").json()
    assert "chat_email" not in visitor["attributes"]
