"""Automation rules (when, if, then: in order, each once per occurrence) and macros (several
actions in one click, never more than their user may do by hand)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from filrouge.core.actions.teams import create_team
from filrouge.core.audit import Actor
from filrouge.core.events import DomainEvent, publish_after_commit
from filrouge.core.models import AutomationRun, Conversation, Event, Message
from filrouge.core.models.enums import Direction, MessageFlag
from filrouge.db import transaction
from filrouge.jobs.automation import on_sla_warning, run_automation, run_no_reply
from helpers import T0, inbound, receive


def team(factory: Any, name: str = "Remboursements") -> int:
    with transaction(factory) as session:
        return create_team(session, 1, name, Actor.system()).id


def rule(caller: Any, expect: int = 201, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Règle")
    body.setdefault("trigger", "message_received")
    response = caller.post("/api/v1/automation-rules", json=body)
    assert response.status_code == expect, response.text
    return dict(response.json())


def conversation(admin: Any, conversation_id: int) -> dict[str, Any]:
    response = admin.get(f"/api/v1/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def actions_logged(factory: Any, action: str) -> list[dict[str, Any]]:
    with factory() as session:
        events = session.scalars(select(Event).where(Event.action == action).order_by(Event.id))
        return [dict(e.after or {}) for e in events]


def keywords(*words: str) -> dict[str, Any]:
    return {"match": "all", "items": [{"field": "keywords", "op": "any", "value": list(words)}]}


def test_it_tags_and_assigns_a_new_whatsapp_message_that_names_a_keyword(admin, channel, factory):
    whatsapp = channel("whatsapp")
    refunds = team(factory)
    created = rule(
        admin,
        conditions={
            "match": "all",
            "items": [
                {"field": "channel", "op": "eq", "value": "whatsapp"},
                {"field": "keywords", "op": "any", "value": ["remboursement", "rembourser"]},
            ],
        },
        actions=[
            {"type": "add_tags", "params": {"tags": ["remboursement"]}},
            {"type": "assign_team", "params": {"team_id": refunds}},
        ],
    )

    hit = admin.post(
        "/api/v1/inbound",
        json=inbound(
            whatsapp["id"],
            "+33612345678",
            "Je veux être REMBOURSÉ… non : un Remboursement !",
            kind="whatsapp",
        ),
    ).json()
    miss = admin.post(
        "/api/v1/inbound",
        json=inbound(whatsapp["id"], "+33698765432", "Les remboursements tardent", kind="whatsapp"),
    ).json()

    tagged = conversation(admin, hit["conversation_id"])
    assert tagged["tags"] == ["remboursement"]
    assert tagged["team_id"] == refunds
    untouched = conversation(admin, miss["conversation_id"])  # a whole word, not a prefix
    assert untouched["tags"] == []
    assert untouched["team_id"] is None
    applied = actions_logged(factory, "automation.applied")
    assert [(a["rule_id"], a["action"]) for a in applied] == [
        (created["id"], "add_tags"),
        (created["id"], "assign_team"),
    ]
    assert admin.get("/api/v1/automation-rules").json()[0]["last_applied_at"] is not None


def test_rules_run_in_order_and_stop_after_a_rule_that_says_so(admin, channel, factory):
    api = channel()
    first = rule(
        admin,
        name="Urgent",
        conditions=keywords("urgent"),
        actions=[{"type": "set_priority", "params": {"priority": "urgent"}}],
        stop_processing=True,
    )
    rule(admin, name="Tout", actions=[{"type": "add_tags", "params": {"tags": ["vu"]}}])

    urgent = receive(admin, api["id"], "a@example.test", text="C'est urgent")
    calm = receive(admin, api["id"], "b@example.test", text="Rien ne presse")

    assert conversation(admin, urgent["conversation_id"])["priority"] == "urgent"
    assert conversation(admin, urgent["conversation_id"])["tags"] == []  # stopped
    assert conversation(admin, calm["conversation_id"])["tags"] == ["vu"]
    second = admin.get("/api/v1/automation-rules").json()[1]["id"]
    reordered = admin.post(
        "/api/v1/automation-rules:reorder", json={"rule_ids": [second, first["id"]]}
    )
    assert [r["name"] for r in reordered.json()] == ["Tout", "Urgent"]
    again = receive(admin, api["id"], "c@example.test", text="urgent !")
    assert conversation(admin, again["conversation_id"])["tags"] == ["vu"]
    assert conversation(admin, again["conversation_id"])["priority"] == "urgent"
    deleted = admin.request("DELETE", f"/api/v1/automation-rules/{first['id']}")
    assert deleted.status_code == 204  # with its runs
    assert [r["name"] for r in admin.get("/api/v1/automation-rules").json()] == ["Tout"]


def test_a_template_reply_goes_out_once_unsigned_and_is_not_the_first_response(
    admin, channel, factory
):
    api = channel()  # no outbound_url: the delivery fails, the reply is stored all the same
    rule(
        admin,
        trigger="conversation_created",
        actions=[
            {
                "type": "send_reply",
                "params": {"text": "Bonjour {{ customer.first_name }}, nous avons bien reçu."},
            }
        ],
    )
    received = receive(admin, api["id"], "lea@example.test", name="Léa Martin")
    follow_up = receive(admin, api["id"], "lea@example.test", hours=1, text="Et alors ?")
    assert follow_up["conversation_id"] == received["conversation_id"]
    item = [
        "message_received",
        received["conversation_id"],
        f"message:{received['message_id']}",
        received["message_id"],
    ]

    run_automation.call_local([item])  # the job runs again: nothing more goes out
    run_automation.call_local([item])

    with factory() as session:
        replies = list(
            session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND))
        )
        talk = session.get_one(Conversation, received["conversation_id"])
        assert talk.first_response_at is None
        assert talk.status == "new"
    assert len(replies) == 1
    assert replies[0].text == "Bonjour Léa, nous avons bien reçu."
    assert replies[0].author_id is None
    assert replies[0].signed_by_id is None
    assert replies[0].flag == MessageFlag.AUTO_REPLY
    assert replies[0].status == "failed"  # its delivery ran, after the commit


def test_it_closes_spam_and_tags_it(admin, channel, factory):
    api = channel()
    rule(
        admin,
        conditions=keywords("casino gratuit"),
        actions=[{"type": "close_as_spam", "params": {}}],
    )

    spam = receive(admin, api["id"], "spam@example.test", text="Casino GRATUIT, cliquez")

    closed = conversation(admin, spam["conversation_id"])
    assert closed["status"] == "closed"
    assert closed["tags"] == ["spam"]


def test_no_reply_rules_act_once_after_their_hours(admin, channel, factory):
    api = channel()
    waiting = rule(
        admin,
        trigger="no_reply",
        hours=4,
        actions=[{"type": "set_priority", "params": {"priority": "high"}}],
    )
    assert waiting["hours"] == 4
    quiet = receive(admin, api["id"], "a@example.test")
    answered = receive(admin, api["id"], "b@example.test")
    admin.post(f"/api/v1/conversations/{answered['conversation_id']}/notes", json={"text": "vu"})
    with transaction(factory) as session:  # a reply sent after the message answers it
        session.add(
            Message(
                conversation_id=answered["conversation_id"],
                channel_id=api["id"],
                direction=Direction.OUTBOUND,
                text="Réponse",
                status="sent",
                occurred_at=T0 + timedelta(hours=1),
            )
        )

    assert run_no_reply(now=T0 + timedelta(hours=3)) == 0
    assert run_no_reply(now=T0 + timedelta(hours=5)) == 1
    assert run_no_reply(now=T0 + timedelta(hours=6)) == 0  # once per unanswered message

    assert conversation(admin, quiet["conversation_id"])["priority"] == "high"
    assert conversation(admin, answered["conversation_id"])["priority"] == "normal"


def test_a_status_change_triggers_its_rules(admin, channel, factory):
    api = channel()
    rule(
        admin,
        trigger="status_changed",
        conditions={"items": [{"field": "status", "op": "eq", "value": "pending"}]},
        actions=[{"type": "add_tags", "params": {"tags": ["relance"]}}],
    )
    received = receive(admin, api["id"], "a@example.test")
    url = f"/api/v1/conversations/{received['conversation_id']}"

    admin.patch(url, json={"priority": "high"})
    assert conversation(admin, received["conversation_id"])["tags"] == []
    admin.patch(url, json={"status": "pending"})

    assert conversation(admin, received["conversation_id"])["tags"] == ["relance"]


def test_a_rule_that_triggers_itself_is_refused_and_a_chain_is_stopped(admin, channel, factory):
    refused = rule(
        admin,
        expect=422,
        trigger="status_changed",
        conditions={"items": [{"field": "status", "op": "in", "value": ["open", "closed"]}]},
        actions=[{"type": "close_as_spam", "params": {}}],
    )
    assert refused["error"]["code"] == "rule_triggers_itself"
    assert refused["error"]["field"] == "actions.0.type"
    assert "close_as_spam" in refused["error"]["message"]
    for status, then in (("pending", "open"), ("open", "pending")):
        rule(
            admin,
            trigger="status_changed",
            conditions={"items": [{"field": "status", "op": "eq", "value": status}]},
            actions=[{"type": "set_status", "params": {"status": then}}],
        )
    received = receive(admin, channel()["id"], "a@example.test")

    response = admin.patch(
        f"/api/v1/conversations/{received['conversation_id']}", json={"status": "pending"}
    )

    assert response.status_code == 200
    stopped = actions_logged(factory, "automation.loop_stopped")
    assert len(stopped) == 1
    assert stopped[0]["max_depth"] == 5


def test_test_mode_lists_the_matches_with_reasons_and_writes_nothing(admin, channel, factory):
    api = channel()
    receive(admin, api["id"], "a@example.test", text="Ma commande est en retard")
    receive(admin, api["id"], "b@example.test", text="Merci beaucoup")
    created = rule(
        admin,
        active=False,
        conditions=keywords("retard"),
        actions=[{"type": "add_tags", "params": {"tags": ["retard"]}}],
    )
    with factory() as session:
        events_before = session.scalar(select(func.count()).select_from(Event))

    response = admin.post(f"/api/v1/automation-rules/{created['id']}/test")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["examined"] == 2
    assert len(body["matched"]) == 1
    assert body["matched"][0]["conditions"][0]["seen"] == ["retard"]
    assert body["matched"][0]["conditions"][0]["matched"] is True
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == events_before
        assert session.scalar(select(func.count()).select_from(AutomationRun)) == 0


def test_a_macro_applies_several_actions_and_never_more_than_its_user_may(
    admin, channel, factory, make_caller
):
    received = receive(admin, channel()["id"], "a@example.test")
    agent = make_caller("agent")
    macro = admin.post(
        "/api/v1/macros",
        json={
            "name": "Attente client",
            "shared": True,
            "actions": [
                {"type": "add_tags", "params": {"tags": ["attente"]}},
                {"type": "set_status", "params": {"status": "pending"}},
                {"type": "assign_agent", "params": {"user_id": agent.user.id}},
            ],
        },
    ).json()
    url = f"/api/v1/conversations/{received['conversation_id']}/macros/{macro['id']}"

    applied = agent.post(url)

    assert applied.status_code == 200, applied.text
    assert applied.json()["tags"] == ["attente"]
    assert applied.json()["status"] == "pending"
    assert applied.json()["assignee_id"] == agent.user.id
    contributor = make_caller("contributor")
    admin.patch(
        f"/api/v1/conversations/{received['conversation_id']}",
        json={"assignee_id": contributor.user.id},
    )
    refused = contributor.post(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "actions.0.type"
    shared = agent.post(
        "/api/v1/macros", json={"name": "X", "shared": True, "actions": macro["actions"]}
    )
    assert shared.status_code == 403


def test_only_supervisors_and_admins_write_rules(admin, make_caller):
    body = {
        "name": "R",
        "trigger": "message_received",
        "actions": [{"type": "add_tags", "params": {"tags": ["x"]}}],
    }
    assert make_caller("agent").post("/api/v1/automation-rules", json=body).status_code == 403
    assert make_caller("contributor").get("/api/v1/automation-rules").status_code == 403
    assert make_caller("supervisor").post("/api/v1/automation-rules", json=body).status_code == 201


def test_bad_rule_definitions_are_refused_with_the_field_at_fault(admin, factory):
    cases = [
        (
            {"conditions": {"items": [{"field": "colour", "op": "eq", "value": "red"}]}},
            "conditions.items.0.field",
            "unknown_condition_field",
        ),
        (
            {"conditions": {"items": [{"field": "segment", "op": "eq", "value": 1}]}},
            "conditions.items.0.field",
            "condition_field_unavailable",
        ),
        (
            {"conditions": {"items": [{"field": "sentiment", "op": "eq", "value": "angry"}]}},
            "conditions.items.0.value",
            "invalid_condition_value",
        ),
        (
            {"conditions": {"items": [{"field": "priority", "op": "eq", "value": "huge"}]}},
            "conditions.items.0.value",
            "invalid_condition_value",
        ),
        (
            {"actions": [{"type": "launch_rocket", "params": {}}]},
            "actions.0.type",
            "unknown_action",
        ),
        (
            {"actions": [{"type": "assign_team", "params": {"team_id": "x"}}]},
            "actions.0.params.team_id",
            "invalid_action_params",
        ),
        (
            {"actions": [{"type": "assign_team", "params": {"team_id": 999}}]},
            "actions.0.params.team_id",
            "unknown_team",
        ),
        ({"trigger": "no_reply", "hours": 0}, "hours", "invalid_hours"),
    ]
    for change, field, code in cases:
        body = {"actions": [{"type": "add_tags", "params": {"tags": ["x"]}}], **change}
        error = rule(admin, expect=422, **body)["error"]
        assert (error["field"], error["code"]) == (field, code), error
    assert admin.get("/api/v1/automation-rules").json() == []


def test_a_failing_action_is_recorded_and_the_others_still_apply(
    admin, channel, factory, make_caller
):
    agent = make_caller("agent")
    rule(
        admin,
        actions=[
            {"type": "assign_agent", "params": {"user_id": agent.user.id}},
            {"type": "add_tags", "params": {"tags": ["vu"]}},
        ],
    )
    with transaction(factory) as session:
        session.get_one(type(agent.user), agent.user.id).active = False

    received = receive(admin, channel()["id"], "a@example.test")

    assert conversation(admin, received["conversation_id"])["tags"] == ["vu"]
    assert conversation(admin, received["conversation_id"])["assignee_id"] is None
    failed = actions_logged(factory, "automation.failed")
    assert [(f["action"], f["code"]) for f in failed] == [("assign_agent", "user_not_assignable")]


def test_the_rules_page_adds_a_rule_shows_a_refusal_in_french_and_tests_it(
    admin, channel, make_browser
):
    receive(admin, channel()["id"], "a@example.test", text="Colis en retard")
    browser = make_browser("supervisor", email="sup.browser@example.test")
    written = {
        "name": "Retards",
        "trigger": "message_received",
        "conditions": '{"items": [{"field": "keywords", "op": "any", "value": ["retard"]}]}',
    }

    refused = browser.post(
        "/automation", {**written, "actions": '[{"type": "launch_rocket", "params": {}}]'}
    )
    assert refused.status_code == 422
    assert "action launch_rocket ; actions disponibles" in refused.text
    assert "Retards" in refused.text  # what was written is kept
    broken = browser.post("/automation", {**written, "actions": "[{"})
    assert "pas du JSON valide" in broken.text

    added = browser.post(
        "/automation", {**written, "actions": '[{"type": "add_tags", "params": {"tags": ["r"]}}]'}
    )
    assert added.status_code == 303
    page = browser.get("/automation")
    assert "Retards" in page.text
    assert "Un message est reçu" in page.text
    rule_id = admin.get("/api/v1/automation-rules").json()[0]["id"]
    tested = browser.post(f"/automation/{rule_id}/test")
    assert tested.status_code == 200
    assert "1 des 1 conversations les plus récentes" in tested.text


def test_the_conversation_page_offers_the_macros_and_one_click_applies_one(
    admin, channel, make_browser
):
    received = receive(admin, channel()["id"], "a@example.test")
    admin.post(
        "/api/v1/macros",
        json={
            "name": "Clore en spam",
            "shared": True,
            "actions": [{"type": "close_as_spam", "params": {}}],
        },
    )
    browser = make_browser("agent")
    page = browser.get(f"/conversations/{received['conversation_id']}")
    assert "Clore en spam" in page.text
    macro_id = admin.get("/api/v1/macros").json()[0]["id"]
    url = f"/conversations/{received['conversation_id']}/macros/{macro_id}"

    assert browser.client.post(url, data={}).status_code == 403  # no CSRF token
    applied = browser.post(url)

    assert applied.status_code == 303
    assert conversation(admin, received["conversation_id"])["tags"] == ["spam"]


def test_an_sla_warning_runs_its_rules_once_per_warning(admin, channel, factory):
    rule(
        admin,
        trigger="sla_warning",
        actions=[{"type": "notify", "params": {"user_ids": [admin.user.id]}}],
    )
    received = receive(admin, channel()["id"], "a@example.test")
    warning = DomainEvent(
        "sla.warning", {"conversation_id": received["conversation_id"], "key": "first:1"}
    )

    with transaction(factory) as session:  # published after a commit, as SLA timers will
        publish_after_commit(session, warning.name, **warning.payload)
    on_sla_warning(warning)  # the same warning delivered twice

    assert actions_logged(factory, "automation.notify") == [
        {
            "user_ids": [admin.user.id],
            "rule_id": admin.get("/api/v1/automation-rules").json()[0]["id"],
        }
    ]
    [told] = admin.get("/api/v1/notifications").json()["items"]
    assert told["conversation_id"] == received["conversation_id"]
    assert "Une règle vous demande de regarder la conversation" in told["text"]


def test_a_job_for_a_conversation_gone_since_does_nothing_and_does_not_fail(admin):
    rule(admin, actions=[{"type": "add_tags", "params": {"tags": ["x"]}}])

    assert run_automation.call_local([["message_received", 999, "message:999", 999]]) == 0
