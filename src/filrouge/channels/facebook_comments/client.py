"""The Graph API calls of a Facebook page, over ``channels/meta/graph.py``:

- a public reply under a comment (or a visitor's post): ``POST /<comment id>/comments``
  with ``message``, answered ``{"id": "<new comment id>"}``;
- a private reply in Messenger: ``POST /<page id>/messages`` with ``recipient.comment_id``
  and ``message.text``, answered ``{"recipient_id", "message_id"}`` (the recipient is the
  commenter's Messenger id, PSID: the core adds it to the customer); Meta allows one per
  comment, within 7 days of it (refused with codes 10900 and 10903);
- hiding a comment, or showing it again: ``POST /<comment id>`` with ``is_hidden``.

Settings: ``page_id``, and ``access_token``, ``api_base_url``, ``api_version`` (graph.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from filrouge.channels.base import DeliveryError, Sent
from filrouge.channels.meta.graph import graph_call, recipient_of
from filrouge.core.models.enums import IdentityKind

# (#10900) "Activity already replied to", (#10903) "This activity can't be replied to".
PRIVATE_REPLY_REFUSALS = frozenset({10900, 10903})
PRIVATE_REPLY_REFUSED = (
    "Facebook allows one private reply per comment, within 7 days of the comment: "
    "this comment can no longer be answered in private"
)
_CODE = re.compile(r"\[code (\d+)\]$")


def reply_in_public(settings: Mapping[str, Any], comment_id: str, text: str) -> str:
    answer = graph_call(settings, "POST", f"{comment_id}/comments", json={"message": text})
    return _answered_id(answer, "id")


def reply_in_private(settings: Mapping[str, Any], comment_id: str, text: str) -> Sent:
    """The private reply's id, and the commenter's Messenger id (PSID) Meta answers with."""
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
    try:
        answer = graph_call(settings, "POST", f"{page_id(settings)}/messages", json=body)
    except DeliveryError as exc:
        if graph_code(str(exc)) in PRIVATE_REPLY_REFUSALS:
            raise DeliveryError(f"{PRIVATE_REPLY_REFUSED} ({exc})", permanent=True) from exc
        raise
    return Sent(_answered_id(answer, "message_id"), recipient_of(answer, IdentityKind.MESSENGER))


def hide(settings: Mapping[str, Any], comment_id: str, hidden: bool) -> None:
    answer = graph_call(settings, "POST", comment_id, json={"is_hidden": hidden})
    if answer.get("success") is False:
        raise DeliveryError("Facebook did not change whether the comment is hidden")


def page_id(settings: Mapping[str, Any]) -> str:
    page = settings.get("page_id")
    if not isinstance(page, str | int) or not str(page):
        raise DeliveryError("this channel has no page_id", permanent=True)
    return str(page)


def graph_code(message: str) -> int | None:
    """The Graph error code that ``read_graph_refusal`` put at the end of an error."""
    found = _CODE.search(message)
    return int(found.group(1)) if found else None


def _answered_id(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    if not isinstance(value, str) or not value:
        raise DeliveryError(f"Facebook answered without an {key}: {answer!r:.200}")
    return value
