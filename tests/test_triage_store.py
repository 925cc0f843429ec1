"""Triage stored on every inbound message: in the API, the pages, the conversation's priority,
corrections by agents (and what retraining learns from them), rules and reports."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import select, update

from filrouge.core.actions.teams import create_team
from filrouge.core.actions.triage_backfill import backfill_triage
from filrouge.core.audit import Actor
from filrouge.core.models import Event, MessageTriage, User
from filrouge.db import transaction
from filrouge.triage import service
from filrouge.triage.types import FIELDS, Context
from helpers import inbound, receive

COMPLAINT = "Ça fait trois semaines que j'attends mon remboursement, c'est honteux !"
THANKS = "Un grand merci à Aurélie pour sa gentillesse, problème réglé !"


def thread_of(caller: Any, conversation_id: int) -> list[dict[str, Any]]:
    response = caller.get(f"/api/v1/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def received(caller: Any, channel_id: int, text: str, sender: str = "zoe@example.fr") -> Any:
    response = caller.post("/api/v1/inbound", json=inbound(channel_id, sender, text))
    assert response.status_code == 201, response.text
    return response.json()


def events(factory: Any, action: str) -> list[dict[str, Any]]:
    with factory() as session:
        found = session.scalars(select(Event).where(Event.action == action).order_by(Event.id))
        return [dict(e.after or {}) for e in found]


def test_every_customer_message_carries_its_triage_and_ours_none(admin, channel):
    api = channel("api")
    got = received(admin, api["id"], COMPLAINT)
    reply = admin.post(
        f"/api/v1/conversations/{got['conversation_id']}/replies", json={"text": "Désolés !"}
    )
    assert reply.status_code == 201, reply.text
    customer, ours = thread_of(admin, got["conversation_id"])
    assert list(customer["triage"]) == list(FIELDS)
    assert customer["triage"]["language"] == "fr"
    assert customer["triage"]["type"] == "complaint"
    assert customer["triage"]["sentiment"] == "negative"
    assert -1 <= customer["triage"]["sentiment_score"] < 0
    assert ours["direction"] == "outbound"
    assert ours["triage"] is None


def test_empty_emoji_and_foreign_messages_are_stored_with_sane_defaults(admin, channel):
    api = channel("api")
    texts = ["", "😡😡😡", "こんにちは、荷物はどこですか", "Guten Tag, wo bleibt mein Paket?"]
    found = []
    for number, text in enumerate(texts):
        got = received(admin, api["id"], text, sender=f"p{number}@example.fr")
        found.append(thread_of(admin, got["conversation_id"])[0]["triage"])
    empty, emoji, japanese, german = found
    assert (empty["type"], empty["sentiment"], empty["sentiment_score"]) == ("other", "neutral", 0)
    assert empty["language"] == "fr"  # the workspace's first language, flagged uncertain
    assert "language_uncertain" in empty["signals"]
    assert "language_uncertain" in emoji["signals"]
    assert japanese["language"] in ("fr", "en")
    assert german["language"] in ("fr", "en")
    assert all(row["priority"] in ("low", "normal", "high", "urgent") for row in found)


def test_a_classifier_failure_stores_the_message_untriaged_and_backfill_triages_it(
    admin, channel, factory, settings, monkeypatch, caplog
):
    api = channel("api")

    def broken(*args: Any) -> Any:
        raise RuntimeError("model file unreadable")

    with monkeypatch.context() as patched:
        patched.setattr(service, "loaded_classifier", broken)
        with caplog.at_level(logging.ERROR, logger="filrouge.triage.service"):
            got = received(admin, api["id"], COMPLAINT)
    assert thread_of(admin, got["conversation_id"])[0]["triage"] is None
    assert "stored untriaged" in caplog.text

    assert backfill_triage(factory, settings.data_dir, settings.languages, chunk=1) == 1
    assert thread_of(admin, got["conversation_id"])[0]["triage"]["type"] == "complaint"
    assert backfill_triage(factory, settings.data_dir, settings.languages) == 0  # all done


def test_a_legal_threat_raises_the_conversation_priority_and_thanks_never_lower_it(
    admin, channel, factory
):
    api = channel("api")
    threat = received(
        admin, api["id"], "C'est inadmissible, mon avocat va vous envoyer une mise en demeure"
    )
    thanks = received(admin, api["id"], THANKS, sender="merci@example.fr")
    raised = admin.get(f"/api/v1/conversations/{threat['conversation_id']}").json()
    assert raised["priority"] == "urgent"
    assert thread_of(admin, threat["conversation_id"])[0]["triage"]["signals"] == ["legal"]
    assert (
        admin.get(f"/api/v1/conversations/{thanks['conversation_id']}").json()["priority"]
        == "normal"
    )
    changes = events(factory, "conversation.priority_changed")
    assert changes == [
        {"priority": "urgent", "reason": "triage", "message_id": threat["message_id"]}
    ]


def test_a_public_complaint_from_a_vip_with_many_followers_is_urgent(admin, channel, factory):
    api = channel("api")
    first = received(admin, api["id"], "Bonjour", sender="star@example.fr")
    customer_id = first["customer_id"]
    admin.patch(f"/api/v1/customers/{customer_id}", json={"attributes": {"vip": True}})
    got = received(admin, api["id"], COMPLAINT, sender="star@example.fr")
    triage = next(
        m["triage"]
        for m in thread_of(admin, got["conversation_id"])
        if m["id"] == got["message_id"]
    )
    assert "vip" in triage["signals"]
    assert triage["priority"] in ("high", "urgent")


def correct(caller: Any, message_id: int, expect: int = 200, **labels: Any) -> Any:
    response = caller.patch(f"/api/v1/messages/{message_id}/triage", json=labels)
    assert response.status_code == expect, response.text
    return response.json()


def test_an_agent_corrects_a_triage_in_one_call_and_the_prediction_is_kept(
    admin, make_caller, channel, factory
):
    api = channel("api")
    got = received(admin, api["id"], THANKS)
    agent = make_caller("agent")
    done = correct(agent, got["message_id"], type="complaint", sentiment="negative")
    assert done["corrected"] is True
    assert done["corrected_by_id"] == agent.user.id
    assert done["predicted"]["type"] == "compliment"
    assert (done["triage"]["type"], done["triage"]["sentiment"]) == ("complaint", "negative")
    assert done["triage"]["sentiment_score"] < 0
    shown = thread_of(admin, got["conversation_id"])[0]["triage"]
    assert (shown["type"], shown["sentiment"]) == ("complaint", "negative")
    again = correct(agent, got["message_id"], language="en")
    assert again["predicted"]["type"] == "compliment"  # the classifier's, not the last one
    assert again["triage"]["language"] == "en"
    logged = events(factory, "message.triage_corrected")
    assert [(e["message_id"], e["type"], e["language"]) for e in logged] == [
        (got["message_id"], "complaint", "fr"),
        (got["message_id"], "complaint", "en"),
    ]


def test_corrections_are_refused_outside_access_and_on_bad_input(
    admin, make_caller, channel, factory
):
    api = channel("api")
    got = received(admin, api["id"], THANKS)
    reply = admin.post(
        f"/api/v1/conversations/{got['conversation_id']}/replies", json={"text": "Merci !"}
    ).json()
    contributor = make_caller("contributor")
    refused = correct(contributor, got["message_id"], expect=404, type="complaint")
    assert refused["error"]["code"] == "message_not_found"
    with transaction(factory) as session:
        session.execute(
            update(User).where(User.id == contributor.user.id).values(expertise=["literie"])
        )
    admin.patch(f"/api/v1/conversations/{got['conversation_id']}", json={"tags": ["literie"]})
    assert correct(contributor, got["message_id"], type="question")["triage"]["type"] == "question"
    assert correct(admin, reply["id"], expect=422, type="question")["error"]["code"] == (
        "message_not_inbound"
    )
    assert correct(admin, got["message_id"], expect=422, type="rant")["error"]["code"]
    assert correct(admin, got["message_id"], expect=422, language="de")["error"]["code"] == (
        "invalid_choice"
    )
    assert correct(admin, got["message_id"], expect=422)["error"]["code"] == "nothing_to_correct"
    assert correct(admin, 999_999, expect=404, type="other")["error"]["code"] == (
        "message_not_found"
    )


def test_the_inbox_and_the_page_show_the_triage_and_correct_it_in_one_click(
    admin, make_browser, channel
):
    api = channel("api")
    got = received(admin, api["id"], COMPLAINT)
    browser = make_browser("agent")
    inbox = browser.get("/inbox")
    assert "Réclamation" in inbox.text
    assert "Négatif" in inbox.text
    page = browser.get(f"/conversations/{got['conversation_id']}")
    assert (
        f'action="/conversations/{got["conversation_id"]}/messages/{got["message_id"]}/triage"'
        in (page.text)
    )
    path = f"/conversations/{got['conversation_id']}/messages/{got['message_id']}/triage"
    forged = browser.client.post(path, data={"type": "question"})
    assert forged.status_code == 403  # no CSRF token
    clicked = browser.post(path, {"type": "question"})
    assert clicked.status_code == 303
    assert thread_of(admin, got["conversation_id"])[0]["triage"]["type"] == "question"
    page = browser.get(f"/conversations/{got['conversation_id']}")
    assert "Corrigé par une personne" in page.text
    elsewhere = browser.post(
        f"/conversations/999999/messages/{got['message_id']}/triage", {"type": "other"}
    )
    assert elsewhere.status_code == 404


def test_a_rule_on_type_and_sentiment_fires_on_a_real_complaint(admin, channel, factory):
    api = channel("api")
    with transaction(factory) as session:
        team_id = create_team(session, 1, "Réclamations", Actor.system()).id
    created = admin.post(
        "/api/v1/automation-rules",
        json={
            "name": "Réclamations fâchées",
            "trigger": "message_received",
            "conditions": {
                "match": "all",
                "items": [
                    {"field": "type", "op": "eq", "value": "complaint"},
                    {"field": "sentiment", "op": "eq", "value": "negative"},
                    {"field": "language", "op": "in", "value": ["fr", "en"]},
                ],
            },
            "actions": [
                {"type": "set_priority", "params": {"priority": "high"}},
                {"type": "assign_team", "params": {"team_id": team_id}},
            ],
        },
    )
    assert created.status_code == 201, created.text
    angry = received(admin, api["id"], COMPLAINT)
    happy = received(admin, api["id"], THANKS, sender="happy@example.fr")
    hit = admin.get(f"/api/v1/conversations/{angry['conversation_id']}").json()
    assert (hit["priority"], hit["team_id"]) == ("high", team_id)
    miss = admin.get(f"/api/v1/conversations/{happy['conversation_id']}").json()
    assert (miss["priority"], miss["team_id"]) == ("normal", None)


def test_a_rule_refuses_an_unknown_type(admin):
    refused = admin.post(
        "/api/v1/automation-rules",
        json={
            "name": "R",
            "trigger": "message_received",
            "conditions": {"items": [{"field": "type", "op": "eq", "value": "rant"}]},
            "actions": [{"type": "add_tags", "params": {"tags": ["x"]}}],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "conditions.items.0.value"


def test_reports_cut_by_the_first_message_type(admin, channel):
    api = channel("api")
    receive(admin, api["id"], "a@example.fr", text=COMPLAINT)
    receive(admin, api["id"], "b@example.fr", hours=1, text=THANKS)
    receive(
        admin, api["id"], "c@example.fr", hours=2, text="Arnaque totale, colis jamais reçu, honteux"
    )

    def count(**cut: str) -> int:
        query = {"since": "2026-06-01", "until": "2026-06-01", **cut}
        response = admin.get("/api/v1/reports/channels", params=query)
        assert response.status_code == 200, response.text
        return int(response.json()["total"]["conversations"])

    assert count() == 3
    assert count(type="complaint") == 2
    assert count(type="compliment") == 1
    assert count(type="purchase_intent") == 0
    refused = admin.get("/api/v1/reports/channels", params={"type": "rant"})
    assert refused.status_code == 422


WORD = "zorblaxé"
TAUGHT = [
    f"{WORD}",
    f"encore {WORD}",
    f"c'est {WORD}",
    f"vraiment {WORD} ce truc",
    f"{WORD} {WORD}",
    f"toujours {WORD}",
]


def test_retrain_learns_the_agents_corrections_from_the_database(admin, channel, settings, engine):
    api = channel("api")
    probe = f"tout est {WORD} ici"
    classifier = service.loaded_classifier(settings.data_dir, settings.languages).classifier
    before = classifier.classify([probe], Context())[0]
    assert before.type != "complaint"
    taught = []  # a message already read as an angry complaint has nothing to correct
    for number, text in enumerate(TAUGHT):
        got = received(admin, api["id"], text, sender=f"t{number}@example.fr")
        if correct(admin, got["message_id"], type="complaint", sentiment="negative")["corrected"]:
            taught.append(text)
    assert len(taught) >= 4
    env = {
        **os.environ,
        "FILROUGE_DATA_DIR": str(settings.data_dir),
        "FILROUGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    done = subprocess.run(
        [sys.executable, "-m", "filrouge.cli", "triage", "retrain"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"model retrained with {len(taught)} corrections" in done.stdout
    assert f"{len(taught)} corrections d'agents lues dans la base de données" in done.stdout
    kept = settings.data_dir / "triage" / "corrections.jsonl"
    rows = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert {row["text"] for row in rows} == set(taught)
    retrained = service.loaded_classifier(settings.data_dir, settings.languages).classifier
    after = retrained.classify([probe], Context())[0]
    assert after.type == "complaint"
    got = received(admin, api["id"], f"franchement {WORD} !", sender="new@example.fr")
    assert thread_of(admin, got["conversation_id"])[0]["triage"]["type"] == "complaint"


def test_the_corrected_rows_keep_who_and_when(admin, channel, factory):
    api = channel("api")
    got = received(admin, api["id"], THANKS)
    correct(admin, got["message_id"], sentiment="neutral")
    with factory() as session:
        row = session.get_one(MessageTriage, got["message_id"])
        assert row.corrected
        assert row.corrected_by_id == admin.user.id
        assert row.corrected_at is not None
        assert (row.predicted or {})["sentiment"] == "positive"
