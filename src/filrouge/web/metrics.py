"""``/metrics`` in Prometheus's text format (prometheus-client): what an operator watches.

- Counted in this process as it happens: HTTP requests by route template (never by raw path)
  and their latency; messages received and deliveries sent or failed, per channel; service-level
  targets stored as breached, per channel kind and target (from the domain events published
  after commit, so a rolled-back message is never counted).
- Read from the database when scraped, so they are true whichever process did the work: queue
  depths (provider deliveries waiting to be read, unreadable ones kept for a person, tasks in
  the queue), callbacks due, channels whose credentials were refused, open conversations whose
  running target is breached now (per channel kind and target, an indexed read), and one
  ``filrouge_channel_info`` line per channel to name the ``channel_id`` labels.

``filrouge worker --metrics-port`` serves the worker's own counters the same way.
Who may read: requests from this machine, or with ``Authorization: Bearer
$FILROUGE_METRICS_TOKEN`` when it is set (a scraper elsewhere).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as render_metrics
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from filrouge.core import events
from filrouge.core.events import DomainEvent
from filrouge.core.models import CallbackRequest, ChannelAccount, Conversation, WebhookDelivery
from filrouge.core.models.callback import WAITING_STATUSES
from filrouge.core.models.enums import ConversationStatus
from filrouge.i18n import N_
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings
from filrouge.web.errors import error_response

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# This machine (Starlette's test client names itself "testclient": no real peer can).
LOOPBACK = frozenset({"127.0.0.1", "::1", "testclient"})
SLA_BREACH = "sla.outcome_breached"  # core/actions/sla.py, once per target breached
COUNTED_EVENTS = ("message.received", "message.sent", "message.failed", SLA_BREACH)
RUNNING = (ConversationStatus.NEW, ConversationStatus.OPEN)  # pending: the clock is stopped


class Metrics:
    """One registry per app (tests build many apps): counters, the latency histogram and the
    collector that reads the database at scrape time."""

    def __init__(self, factory: sessionmaker[Session] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "filrouge_http_request_duration_seconds",
            "HTTP requests by route template, method and status class.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inbound = Counter(
            "filrouge_inbound_messages",
            "Messages received and stored, per channel.",
            ("channel_id",),
            registry=self.registry,
        )
        self.deliveries = Counter(
            "filrouge_deliveries",
            "Replies handed to a channel's provider, per channel and outcome (sent, failed).",
            ("channel_id", "outcome"),
            registry=self.registry,
        )
        self.sla_breaches = Counter(
            "filrouge_sla_breaches",
            "Service-level targets stored as breached, per channel kind and target.",
            ("channel_kind", "target"),
            registry=self.registry,
        )
        if factory is not None:
            self.registry.register(DatabaseCollector(factory))

    def count_event(self, event: DomainEvent) -> None:
        channel = str(event.payload.get("channel_id") or "unknown")
        if event.name == "message.received":
            self.inbound.labels(channel).inc()
        elif event.name in ("message.sent", "message.failed"):
            self.deliveries.labels(channel, event.name.removeprefix("message.")).inc()
        elif event.name == SLA_BREACH:
            kind = str(event.payload.get("channel_kind") or "unknown")
            self.sla_breaches.labels(kind, str(event.payload.get("target"))).inc()

    def listen(self) -> None:
        for name in COUNTED_EVENTS:
            events.subscribe(name, self.count_event)

    def stop_listening(self) -> None:
        for name in COUNTED_EVENTS:
            events.unsubscribe(name, self.count_event)

    def render(self) -> bytes:
        return render_metrics(self.registry)


class DatabaseCollector(Collector):
    """Gauges read when scraped; each query uses an index and counts a bounded set."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Any]:
        with self.factory() as session:
            outcomes: dict[str, int] = dict(
                session.execute(  # type: ignore[arg-type]
                    select(WebhookDelivery.outcome, func.count())
                    .where(WebhookDelivery.outcome.in_(("pending", "unreadable")))
                    .group_by(WebhookDelivery.outcome)
                ).all()
            )
            callbacks_due = session.scalar(
                select(func.count())
                .select_from(CallbackRequest)
                .where(
                    CallbackRequest.status.in_(WAITING_STATUSES),
                    CallbackRequest.due_at <= utcnow(),
                )
            )
            breached = _breached_now(session)
            channels = session.execute(  # not the settings: no secret decrypted per scrape
                select(
                    ChannelAccount.id,
                    ChannelAccount.kind,
                    ChannelAccount.active,
                    ChannelAccount.needs_reconnection_at,
                )
            ).all()
        yield _gauge(
            "filrouge_webhook_deliveries_pending",
            "Provider deliveries stored and not read into conversations yet.",
            outcomes.get("pending", 0),
        )
        yield _gauge(
            "filrouge_webhook_deliveries_unreadable",
            "Provider deliveries that could not be read, kept for a person to look at.",
            outcomes.get("unreadable", 0),
        )
        yield _gauge("filrouge_callbacks_due", "Callbacks whose time has come.", callbacks_due or 0)
        yield _gauge(
            "filrouge_tasks_pending", "Tasks waiting in the background queue.", _tasks_pending()
        )
        yield _gauge(
            "filrouge_channels_needing_reconnection",
            "Channels whose provider refused their credentials.",
            sum(1 for c in channels if c.needs_reconnection_at is not None),
        )
        yield breached
        info = InfoMetricFamily(
            "filrouge_channel",
            "Each channel's kind, to name channel_id labels.",
            labels=["channel_id"],
        )
        for channel in channels:
            info.add_metric(
                [str(channel.id)], {"kind": channel.kind, "active": str(channel.active).lower()}
            )
        yield info


def _breached_now(session: Session) -> GaugeMetricFamily:
    """Open conversations whose running target's due moment has passed (the index on
    ``sla_due_at`` reads only those), per channel kind (the column, never the settings)."""
    rows = session.execute(
        select(ChannelAccount.kind, Conversation.sla_target, func.count())
        .select_from(Conversation)
        .join(ChannelAccount, ChannelAccount.id == Conversation.channel_id)
        .where(Conversation.sla_due_at <= utcnow(), Conversation.status.in_(RUNNING))
        .group_by(ChannelAccount.kind, Conversation.sla_target)
    ).all()
    gauge = GaugeMetricFamily(
        "filrouge_sla_breached_open_conversations",
        "Open conversations whose running service-level target is breached now.",
        labels=["channel_kind", "target"],
    )
    for kind, target, count in rows:
        gauge.add_metric([kind, str(target)], count)
    return gauge


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _tasks_pending() -> int:
    from filrouge.jobs.queue import huey

    try:
        return int(huey.pending_count())
    except Exception:  # a queue that cannot be reached shows as -1, the scrape still answers
        return -1


class MetricsMiddleware:
    """Times every HTTP request; the label is the matched route's template (``/api/v1/
    conversations/{conversation_id}``), ``unmatched`` for a 404 on no route."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.requests.labels(
                scope.get("method", ""), route_template(scope), f"{status // 100}xx"
            ).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The request's path with each path parameter put back as ``{name}``, so that every
    conversation shares one series; ``unmatched`` when no route took the request."""
    if scope.get("route") is None:
        return "unmatched"
    names = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    return "/".join(
        f"{{{names[part]}}}" if part in names else part for part in scope["path"].split("/")
    )


def metrics_response(request: Request, metrics: Metrics, settings: Settings) -> Response:
    if not may_read_metrics(request, settings):
        return error_response(
            request,
            403,
            "metrics_forbidden",
            N_("Metrics are read from this machine, or with the metrics token."),
        )
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def may_read_metrics(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    given = request.headers.get("authorization", "")
    if token:
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.client is not None and request.client.host in LOOPBACK
