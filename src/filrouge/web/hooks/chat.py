"""Live chat, the visitor's side: the widget's script, a demo page, the socket, uploads.

Public routes: the visitor token (``X-Filrouge-Visitor``, or ``?token=`` for an ``<img>``) is
the only credential, and only pages of the channel's ``allowed_origins`` (or of this server)
may use the socket and the uploads. See ``web/widget/session.py`` for the frames.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, File, Form, Request, UploadFile, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from filrouge.channels.base import IncomingAttachment
from filrouge.channels.chat.inbound import visitor_message
from filrouge.channels.chat.protocol import per_minute
from filrouge.channels.chat.tokens import read_token, signing_key
from filrouge.channels.chat.visitors import chat_channel, visitor_identity
from filrouge.core.actions.inbound import receive_message
from filrouge.core.blobs import BlobStore
from filrouge.core.errors import DomainError, NotFound
from filrouge.core.models import Attachment, ChannelAccount, Message
from filrouge.core.uploads import UploadedFile, check_uploads
from filrouge.db import transaction
from filrouge.i18n import N_, negotiate_locale, translate
from filrouge.settings import Settings
from filrouge.web.api.attachments import attachment_response
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.errors import http_error
from filrouge.web.schemas import IdPath
from filrouge.web.widget.session import (
    CLOSE_BAD_ORIGIN,
    CLOSE_NO_CHANNEL,
    ChatContext,
    VisitorSocket,
    VisitorState,
)
from filrouge.web.widget.strings import DEMO_STRINGS, widget_strings

router = APIRouter(include_in_schema=False)
WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
VISITOR_HEADER = "x-filrouge-visitor"
ORIGIN_REFUSED = N_("This site may not use this chat.")
TOKEN_REFUSED = N_("This visitor token is invalid or expired.")
RATE_LIMITED = N_("Too many messages: wait a minute before sending more.")


# --- the script and the demo page ---------------------------------------------------------
@router.get("/widget/{channel_id}.js")
def widget_script(request: Request, channel_id: IdPath, factory: FactoryDep) -> Response:
    """The widget, for ``<script src=".../widget/{id}.js" async></script>`` on any site."""
    _known_channel(factory, channel_id)
    config = {
        "channel": channel_id,
        "base": str(request.base_url).rstrip("/"),
        "strings": widget_strings(),
    }
    source = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8")
    body = source.replace(
        "__FILROUGE_CONFIG__", json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    )
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/widget/{channel_id}/demo")
def widget_demo(request: Request, channel_id: IdPath, factory: FactoryDep) -> Response:
    """A page with nothing but the widget: to try it, and to copy its tag."""
    channel = _known_channel(factory, channel_id)
    locale = negotiate_locale(request.headers.get("accept-language"))
    tag = f'<script src="{request.base_url}widget/{channel_id}.js" async></script>'
    texts = {k: translate(v, locale, channel=channel.name) for k, v in DEMO_STRINGS.items()}
    page = (WIDGET_DIR / "demo.html").read_text(encoding="utf-8")
    for key, value in {**texts, "lang": locale, "tag": tag, "channel_id": str(channel_id)}.items():
        page = page.replace("{{ " + key + " }}", html.escape(value))
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self' ws: wss:; "
        "frame-ancestors 'none'"
    )
    return Response(page, media_type="text/html", headers={"Content-Security-Policy": csp})


# --- the socket ---------------------------------------------------------------------------
@router.websocket("/hooks/chat/{channel_id}/ws")
async def chat_socket(websocket: WebSocket, channel_id: int) -> None:
    context = _context(websocket.app)
    channel = await run_in_threadpool(_chat_channel, context, channel_id)
    await websocket.accept()
    if channel is None:
        await websocket.close(CLOSE_NO_CHANNEL, "no such chat channel")
        return
    if not origin_allowed(websocket.headers, channel.settings or {}, websocket.url.scheme):
        await websocket.close(CLOSE_BAD_ORIGIN, "origin not allowed")
        return
    locale = negotiate_locale(websocket.headers.get("accept-language"))
    state = VisitorState(channel.id, channel.workspace_id, dict(channel.settings or {}), locale)
    await VisitorSocket(websocket, context, state).run()


def _context(app: Any) -> ChatContext:
    """One per app: the session factory, the bus, the rate limits, the signing key."""
    app_state = app.state
    if getattr(app_state, "chat", None) is None:
        settings = app_state.settings
        app_state.chat = ChatContext(
            app_state.session_factory, settings, app_state.broker, signing_key(settings)
        )
    context: ChatContext = app_state.chat
    return context


def _chat_channel(context: ChatContext, channel_id: int) -> ChannelAccount | None:
    if not 0 < channel_id < 2**63:
        return None
    with transaction(context.factory) as session:
        return chat_channel(session, channel_id)


# --- uploads: photos and videos from the visitor's phone ---------------------------------
@router.options("/hooks/chat/{channel_id}/upload")
def upload_preflight(request: Request, channel_id: IdPath, factory: FactoryDep) -> Response:
    """CORS: the widget posts from the customer's site, with its token in a header."""
    channel = _active_chat(factory, channel_id)
    headers = _cors(request, channel)
    if channel is None or headers is None:
        return Response(status_code=403)
    headers |= {
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "X-Filrouge-Visitor, Accept-Language",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


@router.post("/hooks/chat/{channel_id}/upload")
def upload(
    request: Request,
    channel_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    client_id: Annotated[str | None, Form(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> Response:
    """One photo or video (``file``), as a visitor's message in their chat. Errors carry the
    CORS headers too, so that the widget can say what went wrong."""
    channel = _active_chat(factory, channel_id)
    if channel is None:
        raise _no_chat(channel_id)
    headers = _cors(request, channel)
    if headers is None:
        return _error(request, 403, "origin_not_allowed", ORIGIN_REFUSED, {})
    visitor_id = _visitor_id(request, settings, channel)
    if visitor_id is None:
        return _error(request, 401, "invalid_token", TOKEN_REFUSED, headers)
    rate = _context(request.app).rate
    if not rate.allow(f"{channel.id}:{visitor_id}", per_minute(channel.settings or {})):
        return _error(request, 429, "rate_limited", RATE_LIMITED, headers)
    content = file.file.read(settings.max_attachment_bytes + 1)
    try:
        uploaded = UploadedFile(file.filename or "", file.content_type or "", content)
        checked = check_uploads([uploaded], settings.max_attachment_bytes, 1)[0]
        attachment = IncomingAttachment(checked.filename, checked.content_type, checked.content)
        inbound = visitor_message(channel.id, visitor_id, "", client_id, attachments=(attachment,))
        result = receive_message(factory, inbound, settings)
    except DomainError as error:
        params = {k: v for k, v in error.params.items() if k != "field"}
        return _error(request, error.status, error.code, error.message_id, headers, **params)
    body = {"message_id": result.message_id, "conversation_id": result.conversation_id}
    return JSONResponse(body, status_code=200 if result.duplicate else 201, headers=headers)


@router.get("/hooks/chat/{channel_id}/attachments/{attachment_id}")
def visitor_attachment(
    request: Request,
    channel_id: IdPath,
    attachment_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
) -> Response:
    """A file of the visitor's own chat (``?token=`` so that ``<img src>`` can show it)."""
    with transaction(factory) as session:
        channel = chat_channel(session, channel_id)
        if channel is None:
            raise _no_chat(channel_id)
        visitor_id = _visitor_id(request, settings, channel)
        if visitor_id is None:
            raise http_error(401, "invalid_token", TOKEN_REFUSED)
        identity = visitor_identity(session, channel.workspace_id, visitor_id)
        attachment = session.get(Attachment, attachment_id)
        message = None if attachment is None else session.get(Message, attachment.message_id)
        if (
            identity is None
            or attachment is None
            or message is None
            or message.channel_id != channel.id
            or message.identity_id != identity.id
            or message.direction == "note"
        ):
            raise NotFound("unknown_attachment", "There is no attachment {id}.", id=attachment_id)
    response = attachment_response(attachment, BlobStore(settings.attachments_dir))
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# --- checks ------------------------------------------------------------------------------
def origin_allowed(headers: Any, channel_settings: dict[str, Any], scheme: str) -> bool:
    """Browsers always name the page's origin: it must be this server or an allowed site.
    A client that is not a browser names none; it still needs a visitor token."""
    origin = (headers.get("origin") or "").strip().rstrip("/").lower()
    if not origin:
        return True
    if urlsplit(origin).netloc == (headers.get("host") or "").lower():
        return True
    allowed = channel_settings.get("allowed_origins") or []
    if not isinstance(allowed, list):
        return False
    return origin in {str(o).strip().rstrip("/").lower() for o in allowed}


def _cors(request: Request, channel: ChannelAccount | None) -> dict[str, str] | None:
    """The CORS headers for this request's origin; None when the origin is refused."""
    if channel is None or not origin_allowed(
        request.headers, channel.settings or {}, request.url.scheme
    ):
        return None
    origin = request.headers.get("origin")
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _visitor_id(request: Request, settings: Settings, channel: ChannelAccount) -> str | None:
    """The visitor the request's token names, or None (forged, expired, another channel)."""
    token = request.headers.get(VISITOR_HEADER) or request.query_params.get("token")
    return read_token(_context(request.app).key, channel.id, token)


def _active_chat(factory: FactoryDep, channel_id: int) -> ChannelAccount | None:
    with transaction(factory) as session:
        return chat_channel(session, channel_id)


def _known_channel(factory: FactoryDep, channel_id: int) -> ChannelAccount:
    channel = _active_chat(factory, channel_id)
    if channel is None:
        raise _no_chat(channel_id)
    return channel


def _no_chat(channel_id: int) -> NotFound:
    return NotFound(
        "unknown_channel", "There is no active channel {channel_id}.", channel_id=channel_id
    )


def _error(
    request: Request,
    status: int,
    code: str,
    message_id: str,
    headers: dict[str, str],
    **params: Any,
) -> Response:
    locale = negotiate_locale(request.headers.get("accept-language"))
    message = translate(message_id, locale, **params)
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )
