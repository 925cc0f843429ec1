"""The web contact form: ``/forms/{channel_id}``, a hosted page per ``web_form`` channel account,
embeddable on the company's site in an iframe (``settings.allowed_origins`` may frame it).

Public, so defended otherwise than by a session: a honeypot field people never see, a signed
render time (a post sooner than ``MIN_SECONDS`` after the page was served, or from a page older
than a day, is refused), and at most ``POSTS_PER_WINDOW`` posts per address in ten minutes.
The customer gets an acknowledgement by email (``settings.reply_channel_id``: an email channel)
with the expected response time (``settings.response_time``), and the conversation goes on by
email when they answer it.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from filrouge.channels.web_form.inbound import FormPost, normalised_post
from filrouge.core.actions.forms import acknowledge, check_and_count_post
from filrouge.core.actions.inbound import receive_message
from filrouge.core.errors import DomainError, Invalid, NotFound
from filrouge.core.identity import normalise_email
from filrouge.core.models import ChannelAccount, Conversation, Workspace
from filrouge.core.models.enums import ChannelKind
from filrouge.core.uploads import UploadedFile, check_uploads
from filrouge.db import transaction
from filrouge.i18n import N_, translate
from filrouge.lib.keys import sign, unsign
from filrouge.settings import Settings
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
MIN_SECONDS = 3
MAX_AGE_SECONDS = 24 * 3600
MAX_FILES = 5
DEFAULT_RESPONSE_TIME = N_("within one business day")
ACKNOWLEDGEMENT = N_(
    "Hello {name},\n\nWe have received your message \u201c{subject}\u201d and will answer you "
    "{response_time}. You can reply to this email to add anything.\n\nYour message:\n{message}"
)


@router.get("/forms/{channel_id}")
def form_page(
    request: Request, channel_id: IdPath, factory: FactoryDep, settings: SettingsDep
) -> Response:
    channel, workspace = _form_channel(factory, channel_id)
    return _page(request, settings, channel, workspace, {})


@router.post("/forms/{channel_id}")
async def post_form(
    request: Request,
    channel_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    message: Annotated[str, Form(max_length=16 * 1024)],
    name: Annotated[str, Form(max_length=200)] = "",
    subject: Annotated[str, Form(max_length=300)] = "",
    website: Annotated[str, Form(max_length=500)] = "",  # the honeypot
    started: Annotated[str, Form(max_length=200)] = "",
    submission: Annotated[str, Form(max_length=64)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    channel, workspace = _form_channel(factory, channel_id)
    values = {"name": name, "email": email, "subject": subject, "message": message}
    try:
        _check_human(settings, website, started, channel_id)
        post = FormPost(
            channel_id=channel.id,
            submission_id=submission if _is_uuid(submission) else None,
            name=" ".join(name.split()),
            email=normalise_email(email.strip()),
            subject=" ".join(subject.split()),
            message=_required(message),
            files=tuple(
                check_uploads(
                    await _read(files or [], settings), settings.max_attachment_bytes, MAX_FILES
                )
            ),
        )
        with transaction(factory) as session:
            check_and_count_post(session, channel.id, _ip(request))
        result = receive_message(factory, normalised_post(post), settings)
    except DomainError as refusal:
        error = refusal.message_in(locale_for(request, None))
        context = {"error": error, "values": values}
        return _page(request, settings, channel, workspace, context, refusal.status)
    if not result.duplicate:
        _acknowledge(request, factory, channel, result.conversation_id, post)
    done: dict[str, Any] = {"done": True, "response_time": _response_time(request, channel)}
    return _page(request, settings, channel, workspace, done)


def _form_channel(factory: FactoryDep, channel_id: int) -> tuple[ChannelAccount, Workspace]:
    with transaction(factory) as session:
        channel = session.get(ChannelAccount, channel_id)
        if channel is None or channel.kind != ChannelKind.WEB_FORM or not channel.active:
            raise NotFound("unknown_form", "There is no contact form here.")
        return channel, session.get_one(Workspace, channel.workspace_id)


def _page(
    request: Request,
    settings: Settings,
    channel: ChannelAccount,
    workspace: Workspace,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    page = render(
        request,
        "form.html",
        {
            "channel": channel,
            "workspace": workspace,
            "started": sign(settings, f"{channel.id}:{int(time.time())}"),
            "submission": uuid.uuid4().hex,
            "values": {},
            "max_files": MAX_FILES,
            **context,
        },
        status=status,
    )
    origins = " ".join(str(o) for o in (channel.settings or {}).get("allowed_origins", []))
    page.headers["Content-Security-Policy"] = page.headers["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", f"frame-ancestors 'self' {origins}".strip()
    )
    del page.headers["X-Frame-Options"]
    return page


def _check_human(settings: Settings, honeypot: str, started: str, channel_id: int) -> None:
    if honeypot.strip():
        raise Invalid("looks_automated", "This message looks automated and was not sent.")
    value = unsign(settings, started) if started else None
    form_channel, _, stamp = (value or "").partition(":")
    if value is None or form_channel != str(channel_id) or not stamp.isdigit():
        raise Invalid("form_expired", "This form has expired. Reload the page and send again.")
    age = time.time() - int(stamp)
    if age < MIN_SECONDS:
        raise Invalid("looks_automated", "This message looks automated and was not sent.")
    if age > MAX_AGE_SECONDS:
        raise Invalid("form_expired", "This form has expired. Reload the page and send again.")


def _required(message: str) -> str:
    if not message.strip():
        raise Invalid("empty_message", "Write your message.", field="message")
    return message.strip()


async def _read(files: list[UploadFile], settings: Settings) -> list[UploadedFile]:
    uploaded = []
    for upload in files[: MAX_FILES + 1]:
        if not upload.filename:
            continue  # the browser sends an empty part when no file was chosen
        content = await upload.read(settings.max_attachment_bytes + 1)
        uploaded.append(
            UploadedFile(
                upload.filename, upload.content_type or "application/octet-stream", content
            )
        )
    return uploaded


def _acknowledge(
    request: Request,
    factory: FactoryDep,
    channel: ChannelAccount,
    conversation_id: int,
    post: FormPost,
) -> None:
    reply_channel_id = (channel.settings or {}).get("reply_channel_id")
    if not reply_channel_id:
        return
    locale = locale_for(request, None)
    text = translate(
        ACKNOWLEDGEMENT,
        locale,
        name=post.name or post.email,
        subject=post.subject or post.message[:60],
        response_time=_response_time(request, channel),
        message=post.message,
    )
    with transaction(factory) as session:
        conversation = session.get_one(Conversation, conversation_id)
        reply_channel = session.get(ChannelAccount, int(reply_channel_id))
        if reply_channel is not None and reply_channel.workspace_id == channel.workspace_id:
            acknowledge(session, conversation, reply_channel, text)


def _response_time(request: Request, channel: ChannelAccount) -> str:
    configured = (channel.settings or {}).get("response_time")
    return (
        str(configured)
        if configured
        else translate(DEFAULT_RESPONSE_TIME, locale_for(request, None))
    )


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _is_uuid(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
