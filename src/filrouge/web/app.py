"""The ASGI application: wiring only. Routes live in ``web/api``; rules in the core."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine
from starlette.staticfiles import StaticFiles

from filrouge import __version__
from filrouge.core.blobs import BlobStore
from filrouge.core.transparency import ClosedMonths
from filrouge.db import create_db_engine, make_session_factory, start_checkpointer
from filrouge.jobs import automation as automation_jobs
from filrouge.jobs import deliveries, sla
from filrouge.jobs import duplicates as duplicate_jobs  # noqa: F401 - the periodic scan
from filrouge.jobs import retention as retention_jobs  # noqa: F401 - the nightly policy
from filrouge.jobs import routing as routing_jobs
from filrouge.jobs import surveys as survey_jobs
from filrouge.jobs.queue import bind_blobs, bind_factory, bind_settings
from filrouge.schema import check_migrated
from filrouge.settings import Settings, get_settings
from filrouge.web import forms
from filrouge.web.api import (
    attachments,
    automation,
    channels,
    conversations,
    custom_fields,
    customers,
    duplicates,
    inbound,
    me,
    orders,
    privacy,
    public_posts,
    reports,
    search,
    segments,
    sla_policies,
    surveys,
    teams,
    transparency,
    triage,
)
from filrouge.web.errors import install_error_handlers
from filrouge.web.hooks import chat as chat_hook
from filrouge.web.hooks import email as email_hook
from filrouge.web.hooks import providers as provider_hooks
from filrouge.web.limits import BodyLimit
from filrouge.web.logs import install_redaction
from filrouge.web.metrics import Metrics, MetricsMiddleware, metrics_response
from filrouge.web.realtime import Broker
from filrouge.web.schemas import ERROR_RESPONSES
from filrouge.web.ui import (
    account,
    admin,
    approvals,
    canned,
    conversation,
    inbox,
    live,
)
from filrouge.web.ui import automation as automation_pages
from filrouge.web.ui import concierge as concierge_pages
from filrouge.web.ui import customer as customer_pages
from filrouge.web.ui import customer_fields as customer_field_pages
from filrouge.web.ui import customer_merge as customer_merge_pages
from filrouge.web.ui import duplicates as duplicate_pages
from filrouge.web.ui import notifications as notification_pages
from filrouge.web.ui import privacy as privacy_pages
from filrouge.web.ui import public_posts as public_post_pages
from filrouge.web.ui import search as search_pages
from filrouge.web.ui import segments as segment_pages
from filrouge.web.ui import transparency as transparency_pages
from filrouge.web.ui import triage as triage_pages
from filrouge.web.ui.callback_form import router as callback_form_router
from filrouge.web.ui.callbacks import router as callbacks_router
from filrouge.web.ui.dashboard import router as dashboard_router
from filrouge.web.ui.survey import router as survey_router
from filrouge.web.ui.templating import STATIC

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app. Refuses to start on a database that is not migrated to this version."""
    settings = settings or get_settings()
    engine = engine or create_db_engine(settings.database_url)
    check_migrated(engine)
    logging.basicConfig(level=settings.log_level)
    broker = Broker(settings.redis_url, installation=settings.database_url)
    metrics = Metrics(make_session_factory(engine))
    app = FastAPI(
        lifespan=_lifespan(engine, broker, metrics),
        title="Filrouge",
        version=__version__,
        description="One inbox, one thread per customer, every channel.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.broker = broker
    app.state.metrics = metrics
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.transparency_months = ClosedMonths()  # settled months of the public page
    bind_factory(app.state.session_factory)
    bind_blobs(BlobStore(settings.attachments_dir))
    bind_settings(settings)
    deliveries.install()
    survey_jobs.install()
    sla.install()
    automation_jobs.install()
    routing_jobs.install()
    install_error_handlers(app)
    install_redaction()
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: times the whole request
    for module in (
        channels,
        inbound,
        conversations,
        public_posts,
        customers,
        custom_fields,
        segments,
        privacy,
        duplicates,
        orders,
        attachments,
        surveys,
        reports,
        me,
        search,
        sla_policies,
        automation,
        transparency,
        teams,
        triage,
    ):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(email_hook.router)
    app.include_router(chat_hook.router)
    app.include_router(provider_hooks.router)  # public: each provider signs its deliveries
    provider_hooks.mount_intake(app)  # deliveries themselves: a lean route, matched first
    app.include_router(forms.router)
    pages = (
        account,
        inbox,
        conversation,
        public_post_pages,
        approvals,
        duplicate_pages,
        customer_merge_pages,
        customer_pages,
        customer_field_pages,
        privacy_pages,
        concierge_pages,
        notification_pages,
        canned,
        segment_pages,
        automation_pages,
        admin,
        live,
        search_pages,
        triage_pages,
    )
    for ui_module in pages:
        app.include_router(ui_module.router)
    app.include_router(callbacks_router)
    app.include_router(dashboard_router)  # /reports: the supervisors' dashboard
    app.include_router(callback_form_router)  # public: the "call me back" page
    app.include_router(survey_router)  # public: the link's token is the credential
    app.include_router(transparency_pages.router)  # public when a workspace publishes it
    app.include_router(transparency_pages.api_router, prefix=API_PREFIX)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/healthz", _health, methods=["GET"], include_in_schema=False)
    app.add_api_route("/metrics", _metrics, methods=["GET"], include_in_schema=False)
    return app


def _lifespan(engine: Engine, broker: Broker, metrics: Metrics) -> Any:
    """While serving: SQLite checkpoints in the background, the realtime broker, and the
    metrics counting committed events."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        checkpointer = start_checkpointer(engine)
        broker.start()
        metrics.listen()
        try:
            yield
        finally:
            metrics.stop_listening()
            broker.stop()
            if checkpointer is not None:
                checkpointer.stop()

    return lifespan


def _health() -> dict[str, str]:
    return {"status": "ok"}


def _metrics(request: Request) -> Response:
    return metrics_response(request, request.app.state.metrics, request.app.state.settings)
