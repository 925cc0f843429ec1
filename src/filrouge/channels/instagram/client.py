"""The Graph API calls of Instagram's public side: a public reply to a comment
(``POST /<comment id>/replies`` with ``message``, answered ``{"id"}``), hiding or showing a
comment again (``POST /<comment id>`` with ``hide``, answered ``{"success": true}``), and a
private reply to a comment (``POST /me/messages`` with ``recipient: {"comment_id"}``).
Direct messages use the Send API of ``channels/messenger/client.py``. Settings: those of
``meta/graph.py`` (``api_base_url`` is ``https://graph.instagram.com`` for apps that use
Instagram Login)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from filrouge.channels.base import DeliveryError, Sent
from filrouge.channels.meta.graph import graph_call, recipient_of
from filrouge.core.models.enums import IdentityKind

MESSAGES_PATH = "me/messages"


def reply_to_comment(settings: Mapping[str, Any], comment_id: str, text: str) -> str | None:
    answer = graph_call(settings, "POST", f"{comment_id}/replies", json={"message": text})
    return str(answer["id"]) if answer.get("id") else None


def private_reply(settings: Mapping[str, Any], comment_id: str, text: str) -> Sent:
    """The private reply's id, and the commenter's Instagram id (IGSID) when Meta names it."""
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
    answer = graph_call(settings, "POST", MESSAGES_PATH, json=body)
    sent_id = str(answer["message_id"]) if answer.get("message_id") else None
    return Sent(sent_id, recipient_of(answer, IdentityKind.INSTAGRAM))


def set_comment_hidden(settings: Mapping[str, Any], comment_id: str, hidden: bool) -> None:
    answer = graph_call(settings, "POST", comment_id, json={"hide": hidden})
    if answer.get("success") is not True:
        what = "hide" if hidden else "show"
        raise DeliveryError(f"Instagram did not {what} the comment: {answer!r:.200}")
