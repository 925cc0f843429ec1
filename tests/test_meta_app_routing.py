"""Meta sends all of an app's events to one callback URL: a page's comments and its Messenger
messages, every WhatsApp number of the app. Each channel of that app gets what is its own,
whichever of their URLs was pasted in the console."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SECRET = "one-meta-app-secret"
PAGE = "2002"


def signed_post(admin: Any, kind: str, channel_id: int, envelope: dict[str, Any]) -> Any:
    body = json.dumps(envelope).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return admin.client.post(
        f"/hooks/{kind}/{channel_id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )


def meta_channel(channel: Any, kind: str, **settings: Any) -> dict[str, Any]:
    created: dict[str, Any] = channel(
        kind, name=kind, app_secret=SECRET, verify_token="v", access_token="t", **settings
    )
    return created


def comment(comment_id: str) -> dict[str, Any]:
    value = {
        "from": {"id": "777", "name": "Camille Besson"},
        "post_id": f"{PAGE}_1",
        "comment_id": comment_id,
        "parent_id": f"{PAGE}_1",
        "created_time": 1700000000,
        "item": "comment",
        "verb": "add",
        "message": "Livraison en retard !",
    }
    change = {"field": "feed", "value": value}
    return {"object": "page", "entry": [{"id": PAGE, "time": 1, "changes": [change]}]}


def direct_message(mid: str) -> dict[str, Any]:
    event = {
        "sender": {"id": "psid-9"},
        "recipient": {"id": PAGE},
        "timestamp": 1700000000000,
        "message": {"mid": mid, "text": "Bonjour, ma facture ?"},
    }
    return {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [event]}]}


def channels_of_messages(admin: Any) -> list[int]:
    items = admin.get("/api/v1/conversations").json()["items"]
    return sorted(c["channel_id"] for c in items)


def test_a_comment_sent_to_the_messenger_url_reaches_the_comments_channel(admin, channel):
    messenger = meta_channel(channel, "messenger", page_id=PAGE)
    comments = meta_channel(channel, "facebook_comments", page_id=PAGE)
    assert signed_post(admin, "messenger", messenger["id"], comment("1_10")).status_code == 200
    assert (
        signed_post(admin, "messenger", messenger["id"], direct_message("m_1")).status_code == 200
    )
    assert channels_of_messages(admin) == sorted([comments["id"], messenger["id"]])


def test_each_whatsapp_number_of_the_app_gets_its_own_messages(admin, channel):
    first = meta_channel(channel, "whatsapp", phone_number_id="111")
    second = meta_channel(channel, "whatsapp", phone_number_id="222")
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "33100", "phone_number_id": "222"},
                            "contacts": [{"profile": {"name": "Léa"}, "wa_id": "33612345678"}],
                            "messages": [
                                {
                                    "from": "33612345678",
                                    "id": "wamid.A1",
                                    "timestamp": "1700000000",
                                    "type": "text",
                                    "text": {"body": "Bonjour"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert signed_post(admin, "whatsapp", first["id"], envelope).status_code == 200
    assert channels_of_messages(admin) == [second["id"]]


def test_a_channel_of_another_app_gets_nothing(admin, channel):
    messenger = meta_channel(channel, "messenger", page_id=PAGE)
    channel("facebook_comments", name="other app", page_id=PAGE, app_secret="another-secret")
    signed_post(admin, "messenger", messenger["id"], comment("1_11"))
    assert channels_of_messages(admin) == []
