"""One visitor's WebSocket: hello → welcome, then frames both ways until the visitor leaves.

The first frame must be ``hello`` (with the stored token, if any); the server answers
``welcome`` with a fresh token, the history and whether the team is there. Afterwards each
visitor frame is answered (``ack``, ``contact``, ``pong``) or refused with an ``error`` frame,
and the socket stays open; signals from the hub make the server send what is new.
Close codes: 4401 token refused, 4403 origin refused, 4404 no such chat channel, 4408 no
hello in time, 1009 frame too large.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.chat import protocol
from filrouge.channels.chat.hub import HUB, Connection
from filrouge.channels.chat.inbound import visitor_message
from filrouge.channels.chat.protocol import FrameError
from filrouge.channels.chat.tokens import issue_token, new_visitor_id, read_token
from filrouge.channels.chat.visitors import (
    Availability,
    ask_follow_up_by_email,
    availability,
    chat_channel,
    message_frame,
    rate_survey,
    remember_contact,
    visitor_contact,
    visitor_identity,
    visitor_messages,
)
from filrouge.core.actions.inbound import receive_message
from filrouge.core.errors import DomainError, Invalid
from filrouge.core.identity import normalise_email
from filrouge.core.models import ChannelAccount
from filrouge.core.uploads import megabytes
from filrouge.db import transaction
from filrouge.i18n import LOCALES, N_, translate
from filrouge.settings import Settings
from filrouge.web.realtime import Broker

log = logging.getLogger(__name__)
HELLO_SECONDS = 10.0
TYPING_EVERY_SECONDS = 2.0
CLOSE_TOO_LARGE = 1009
CLOSE_BAD_TOKEN = 4401
CLOSE_BAD_ORIGIN = 4403
CLOSE_NO_CHANNEL = 4404
CLOSE_NO_HELLO = 4408


@dataclass
class ChatContext:
    """What every visitor socket of one app shares."""

    factory: sessionmaker[Session]
    settings: Settings
    broker: Broker
    key: bytes
    rate: protocol.RateLimit = field(default_factory=protocol.RateLimit)
    pump: asyncio.Task[None] | None = None
    open_sockets: int = 0

    def join(self, connection: Connection) -> None:
        """Register the socket; the first one starts relaying the bus to the hub."""
        HUB.bind(self.broker.publish)
        HUB.join(connection)
        self.open_sockets += 1
        if self.pump is None or self.pump.done():
            self.pump = asyncio.ensure_future(_pump(self.broker))

    def leave(self, connection: Connection) -> None:
        HUB.leave(connection)
        self.open_sockets -= 1
        if self.open_sockets <= 0 and self.pump is not None:
            self.pump.cancel()
            self.pump = None


async def _pump(broker: Broker) -> None:
    """The realtime bus (this process's and, with Redis, all processes') → the hub."""
    async for frame in broker.stream():
        for line in frame.splitlines():
            if line.startswith("data: "):
                HUB.dispatch(line.removeprefix("data: "))


@dataclass
class VisitorState:
    channel_id: int
    workspace_id: int
    channel_settings: dict[str, Any]
    locale: str
    visitor_id: str = ""
    name: str = ""
    email: str = ""
    sent: set[int] = field(default_factory=set)
    last_typing: float = 0.0
    contact_stored: bool = False


class VisitorSocket:
    def __init__(self, websocket: WebSocket, context: ChatContext, state: VisitorState) -> None:
        self.ws = websocket
        self.ctx = context
        self.state = state
        self.connection: Connection | None = None

    # --- the frames -------------------------------------------------------------------
    async def hello(self) -> bool:
        """Wait for ``hello``; answer ``welcome``. False when the socket was closed."""
        try:
            raw = await asyncio.wait_for(self.ws.receive_text(), HELLO_SECONDS)
        except TimeoutError:
            await self.ws.close(CLOSE_NO_HELLO, "hello expected")
            return False
        try:
            frame = protocol.read_frame(raw)
        except FrameError as error:
            await self.send_error(error)
            frame = {}
        if frame.get("type") != "hello":
            await self.ws.close(CLOSE_NO_HELLO, "hello expected")
            return False
        if frame.get("locale") in LOCALES:
            self.state.locale = str(frame["locale"])
        token = frame.get("token")
        if token:
            visitor_id = read_token(self.ctx.key, self.state.channel_id, token)
            if visitor_id is None:
                await self.ws.close(CLOSE_BAD_TOKEN, "invalid visitor token")
                return False
        else:
            visitor_id = new_visitor_id()
        self.state.visitor_id = visitor_id
        self.connection = Connection(self.state.channel_id, visitor_id, asyncio.get_running_loop())
        self.ctx.join(self.connection)  # before the history: nothing falls in between
        await self.welcome()
        return True

    async def run(self) -> None:
        """The whole life of the socket, once it is accepted."""
        try:
            if await self.hello():
                await self.serve()
        except WebSocketDisconnect:
            pass
        finally:
            if self.connection is not None:
                self.ctx.leave(self.connection)

    async def serve(self) -> None:
        assert self.connection is not None
        queue = self.connection.queue
        receiver = asyncio.ensure_future(self.ws.receive())
        signal = asyncio.ensure_future(queue.get())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {receiver, signal}, return_when=asyncio.FIRST_COMPLETED
                )
                if receiver in done:
                    if not await self.on_receive(receiver.result()):
                        return
                    receiver = asyncio.ensure_future(self.ws.receive())
                if signal in done:
                    await self.on_signal(signal.result())
                    signal = asyncio.ensure_future(queue.get())
        finally:
            for task in (receiver, signal):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def on_receive(self, message: Mapping[str, Any]) -> bool:
        """Handle one raw WebSocket event; False once the socket is gone or closed."""
        if message["type"] == "websocket.disconnect":
            return False
        raw = message.get("text")
        if raw is None:
            await self.send_error(FrameError("not_json", N_("The frame is not JSON.")))
            return True
        if len(raw) > 2 * self.ctx.settings.max_text_bytes + 8192:
            await self.ws.close(CLOSE_TOO_LARGE, "frame too large")
            return False
        try:
            await self.on_frame(raw)
        except FrameError as error:
            await self.send_error(error)
        except DomainError as error:
            params = {k: v for k, v in error.params.items() if k != "field"}
            await self.send_error(FrameError(error.code, error.message_id, **params))
        return True

    async def welcome(self) -> None:
        welcome = await run_in_threadpool(self._welcome_data)
        token = issue_token(self.ctx.key, self.state.channel_id, self.state.visitor_id)
        await self.send({"type": "welcome", "token": token, **welcome})

    def _welcome_data(self) -> dict[str, Any]:
        with transaction(self.ctx.factory) as session:
            messages = self._new_messages(session)
            contact = visitor_contact(session, self.state.workspace_id, self.state.visitor_id)
            shown = self._availability(session)
        self.state.name = contact["name"] or ""
        self.state.email = contact["email"] or ""
        self.state.contact_stored = bool(self.state.name or self.state.email)
        limit = self.ctx.settings.max_attachment_bytes
        return {
            "messages": messages,
            "contact": contact,
            "availability": shown.public(),
            "limits": {"max_bytes": limit, "max_mb": megabytes(limit)},
        }

    async def on_frame(self, raw: str) -> None:
        frame = protocol.read_frame(raw)
        kind = frame["type"]
        if kind == "message":
            await self.on_message(frame)
        elif kind == "typing":
            await self.on_typing(frame)
        elif kind == "contact":
            await self.on_contact(frame)
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "rating":
            await self.on_rating(frame)
        else:  # a second hello
            raise FrameError("unexpected_hello", N_("The socket has already said hello."))

    async def on_message(self, frame: dict[str, Any]) -> None:
        text = protocol.text_field(frame, "text", self.ctx.settings.max_text_bytes, True)
        client_id = protocol.client_id(frame)
        self.check_rate()
        inbound = visitor_message(
            self.state.channel_id, self.state.visitor_id, text, client_id, self.state.name
        )
        result = await run_in_threadpool(
            receive_message, self.ctx.factory, inbound, self.ctx.settings
        )
        offline = await run_in_threadpool(self.after_message, result.conversation_id)
        if self.connection is not None:
            self.connection.conversations.add(result.conversation_id)
        self.state.last_typing = 0.0  # typing after this message is news again
        await self.send(
            {
                "type": "ack",
                "client_id": client_id,
                "message_id": result.message_id,
                "availability": offline.public(),
            }
        )

    def after_message(self, conversation_id: int) -> Availability:
        """Apply the contact given before the first message; ask for an email follow-up
        when nobody can answer live. Returns what the widget should say."""
        with transaction(self.ctx.factory) as session:
            channel = chat_channel(session, self.state.channel_id)
            if channel is None:
                return Availability(False, "closed", None)
            if not self.state.contact_stored:
                self._remember(session, channel)
            shown = self._availability(session)
            if not shown.online:
                ask_follow_up_by_email(session, conversation_id, channel.id)
        return shown

    async def on_rating(self, frame: dict[str, Any]) -> None:
        """The visitor rates the conversation from the satisfaction request's buttons."""
        message_id, csat = frame.get("message_id"), frame.get("csat")
        if not isinstance(message_id, int) or not isinstance(csat, int) or not 1 <= csat <= 5:
            raise FrameError("invalid_rating", N_("Choose a rating from 1 to 5."))
        self.check_rate()
        await run_in_threadpool(self._rate, message_id, csat)
        await self.send({"type": "rated", "message_id": message_id, "csat": csat})

    def _rate(self, message_id: int, csat: int) -> None:
        with transaction(self.ctx.factory) as session:
            channel = chat_channel(session, self.state.channel_id)
            if channel is None:
                raise FrameError("survey_not_found", N_("This survey link is not valid."))
            rate_survey(session, channel, self.state.visitor_id, message_id, csat)

    async def on_typing(self, frame: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        if frame.get("state") is not True or self.connection is None:
            return
        if loop.time() - self.state.last_typing < TYPING_EVERY_SECONDS:
            return
        if not self.connection.conversations:  # nothing written yet: no agent to tell
            return
        self.state.last_typing = loop.time()
        conversation_id = max(self.connection.conversations)
        name = self.state.name or translate(N_("Visitor"), self.ctx.settings.default_locale)
        self.ctx.broker.publish(  # what agents' pages show as "… is typing"
            {
                "type": "presence",
                "conversation_id": conversation_id,
                "user_id": f"visitor-{conversation_id}",  # never an agent's (integer) id
                "name": name,
                "state": "typing",
            }
        )

    async def on_contact(self, frame: dict[str, Any]) -> None:
        name = protocol.text_field(frame, "name", protocol.MAX_NAME)
        email = protocol.text_field(frame, "email", protocol.MAX_EMAIL)
        if email:
            try:
                email = normalise_email(email)
            except Invalid:
                raise FrameError(
                    "invalid_email", N_("{value} is not an email address."), value=email
                ) from None
        self.check_rate()
        self.state.name = name or self.state.name
        self.state.email = email or self.state.email
        self.state.contact_stored = False
        await run_in_threadpool(self._store_contact)
        await self.send(
            {"type": "contact", "name": self.state.name or None, "email": self.state.email or None}
        )

    def _store_contact(self) -> None:
        with transaction(self.ctx.factory) as session:
            channel = chat_channel(session, self.state.channel_id)
            if channel is not None:
                self._remember(session, channel)

    def _remember(self, session: Session, channel: ChannelAccount) -> None:
        """Keep the name and email given; before the first message there is no customer yet,
        so they wait on the socket until then."""
        if not (self.state.name or self.state.email):
            return
        identity = visitor_identity(session, channel.workspace_id, self.state.visitor_id)
        if identity is not None:
            remember_contact(session, channel, identity, self.state.name, self.state.email)
            self.state.contact_stored = True

    def check_rate(self) -> None:
        key = f"{self.state.channel_id}:{self.state.visitor_id}"
        if not self.ctx.rate.allow(key, protocol.per_minute(self.state.channel_settings)):
            raise protocol.rate_limited()

    # --- signals from the hub ------------------------------------------------------------
    async def on_signal(self, signal: dict[str, Any]) -> None:
        if signal.get("type") == "presence":
            name = str(signal.get("name") or "").split(" ")[0]
            await self.send({"type": "typing", "name": name})
            return
        for message in await run_in_threadpool(self._read_new):
            await self.send({"type": "message", "message": message})

    def _read_new(self) -> list[dict[str, Any]]:
        with transaction(self.ctx.factory) as session:
            return self._new_messages(session)

    def _new_messages(self, session: Session) -> list[dict[str, Any]]:
        channel = chat_channel(session, self.state.channel_id)
        if channel is None:
            return []
        found = visitor_messages(session, channel, self.state.visitor_id)
        frames = [
            message_frame(session, m, self.state.visitor_id)
            for m in found
            if m.id not in self.state.sent
        ]
        self.state.sent.update(m.id for m in found)
        if self.connection is not None:
            self.connection.conversations.update(m.conversation_id for m in found)
        return frames

    def _availability(self, session: Session) -> Availability:
        channel = chat_channel(session, self.state.channel_id)
        if channel is None:
            return Availability(False, "closed", None)
        return availability(session, channel, self.ctx.settings.default_region)

    # --- plumbing ----------------------------------------------------------------------
    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(frame))

    async def send_error(self, error: FrameError) -> None:
        message = translate(error.message_id, self.state.locale, **error.params)
        await self.send({"type": "error", "code": error.code, "message": message})
