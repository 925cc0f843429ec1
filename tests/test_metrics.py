"""/metrics for Prometheus: request latency by route template, messages received and replies
sent per channel, queue depths read from the database; readable from this machine or with the
metrics token only."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from helpers import T0, receive


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_it_counts_messages_per_channel_and_times_requests_by_route(admin, channel, client):
    whatsapp = channel("whatsapp", "WhatsApp")
    first = receive(admin, whatsapp["id"], "+33612345678", kind="whatsapp", text="Bonjour")
    receive(admin, whatsapp["id"], "+33612345678", kind="whatsapp", text="Encore", hours=1)
    admin.get(f"/api/v1/conversations/{first['conversation_id']}")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    channel_label = (("channel_id", str(whatsapp["id"])),)
    assert found[("filrouge_inbound_messages_total", channel_label)] == 2
    info = (
        "filrouge_channel_info",
        (("active", "true"), ("channel_id", str(whatsapp["id"])), ("kind", "whatsapp")),
    )
    assert found[info] == 1
    route = "/api/v1/conversations/{conversation_id}"
    counted = [
        value
        for (name, labels), value in found.items()
        if name == "filrouge_http_request_duration_seconds_count" and ("route", route) in labels
    ]
    assert counted == [1]  # by template: never one series per conversation id
    assert not re.search(r'route="/api/v1/conversations/\d', response.text)
    assert client.get("/no/such/page").status_code == 404
    assert 'route="unmatched"' in client.get("/metrics").text


def test_it_shows_queue_depths_from_the_database(admin, channel, client, factory):
    from filrouge.core.models import WebhookDelivery
    from filrouge.lib.timeutil import utcnow

    telegram = channel("telegram", "Telegram", bot_token="1:x", secret_token="s")
    with factory() as session, session.begin():
        for n, outcome in enumerate(("pending", "pending", "unreadable", "processed")):
            session.add(
                WebhookDelivery(
                    channel_id=telegram["id"],
                    kind="telegram",
                    digest=f"d{n}",
                    body=b"{}",
                    received_at=utcnow(),
                    outcome=outcome,
                )
            )
    found = samples(client.get("/metrics").text)
    assert found[("filrouge_webhook_deliveries_pending", ())] == 2
    assert found[("filrouge_webhook_deliveries_unreadable", ())] == 1
    assert found[("filrouge_tasks_pending", ())] >= 0


def test_only_this_machine_or_the_token_holder_reads_metrics(app, settings):
    from starlette.testclient import TestClient

    outside = TestClient(app, client=("203.0.113.9", 50000))
    refused = outside.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "metrics_forbidden"
    settings.metrics_token = "scrape-me"
    assert outside.get("/metrics").status_code == 403
    allowed = outside.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert allowed.status_code == 200
    assert "filrouge_http_request_duration_seconds" in allowed.text


def test_it_counts_sla_breaches_and_shows_the_conversations_breached_now(
    admin, channel, client, factory
):
    from filrouge.core.actions.sla import refresh_sla
    from filrouge.lib.timeutil import utcnow

    whatsapp = channel("whatsapp", "WhatsApp", access_token="secret-token")
    email = channel("email", "E-mail")
    late = receive(admin, whatsapp["id"], "+33612345678", kind="whatsapp", text="Allô ?")
    now = (utcnow() - T0).total_seconds() / 3600
    fresh = receive(admin, email["id"], "ana@example.test", hours=now, text="Bonjour")
    for _ in range(2):  # worked out twice: each breach is counted once
        with factory() as session, session.begin():
            refresh_sla(session, [late["conversation_id"], fresh["conversation_id"]], utcnow())
    found = samples(client.get("/metrics").text)
    # the WhatsApp message of 1 June waited past its hour and its five business days
    for target in ("first_response", "resolution"):
        labels = (("channel_kind", "whatsapp"), ("target", target))
        assert found[("filrouge_sla_breaches_total", labels)] == 1
    assert not any(
        ("channel_kind", "email") in labels
        for name, labels in found
        if name.startswith("filrouge_sla_breach")
    )  # the e-mail written just now is not due yet
    breached_now = (
        "filrouge_sla_breached_open_conversations",
        (("channel_kind", "whatsapp"), ("target", "first_response")),
    )
    assert found[breached_now] == 1
    admin.request(
        "PATCH", f"/api/v1/conversations/{late['conversation_id']}", json={"status": "resolved"}
    )
    with factory() as session, session.begin():
        refresh_sla(session, [late["conversation_id"]], utcnow())
    assert breached_now not in samples(client.get("/metrics").text)
