"""A contact form post, as the pipeline takes it: the email typed is unverified, the subject and
message are text, the files checked like any other upload; the form's submission id makes a
double click (or a retried post) one message."""

from __future__ import annotations

from dataclasses import dataclass

from filrouge.channels.base import IncomingAttachment, NormalisedInbound, Sender
from filrouge.core.models.enums import IdentityKind
from filrouge.core.uploads import CheckedFile


@dataclass(frozen=True)
class FormPost:
    channel_id: int
    submission_id: str | None
    name: str
    email: str
    subject: str
    message: str
    files: tuple[CheckedFile, ...] = ()


def normalised_post(post: FormPost) -> NormalisedInbound:
    return NormalisedInbound(
        channel_id=post.channel_id,
        provider_message_id=f"form:{post.submission_id}" if post.submission_id else None,
        sender=Sender(IdentityKind.EMAIL, post.email, post.name or None, verified=False),
        text=post.message,
        subject=post.subject or None,
        attachments=tuple(
            IncomingAttachment(f.filename, f.content_type, content=f.content) for f in post.files
        ),
    )
