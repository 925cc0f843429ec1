"""X (Twitter): the Account Activity API's deliveries (X's own examples and a real tweet in the
documented envelope), signed and challenged with the published test vectors' consumer
secret, are stored the way they should be; replies leave by the X API v2 (a fake one on
127.0.0.1): public replies under the customer's tweet, DMs, images, refusals and rate
limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from fake_provider import FakeProvider, fake_provider
from filrouge.channels import x as x_package
from filrouge.channels.base import DeliveryError, OutboundMessage, Recipient
from filrouge.channels.x import client as x_client
from filrouge.channels.x.adapter import XAdapter
from filrouge.core.models.enums import Visibility
from filrouge.jobs.deliveries import deliver
from helpers import conversations, shared_data, thread

HEADER = "x-twitter-webhooks-signature"
VECTORS = "signature_and_crc_test_vectors.json"
COMPOSED = "COMPOSED_tweet_create_events_with_real_status.json"
DM = "direct_message_events_message_create.json"
DELETE = "tweet_delete_events_signed_raw_body.json"
TOKEN = "x-user-token-for-tests"
OUR_TWEET = "1800000000000000001"
OUR_DM = "1800000000000000900"
MEDIA_ID = "1455952740635586573"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00photo-of-the-cartoon"


def folder() -> Path:
    return shared_data("webhooks", "x_twitter_account_activity")


def vectors() -> dict[str, Any]:
    found: dict[str, Any] = json.loads((folder() / VECTORS).read_bytes())
    return found


def secret() -> str:
    return str(vectors()["consumer_secret"])


def shared(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((folder() / name).read_bytes())
    return found


def real_tweet() -> dict[str, Any]:
    """The real v1.1 status (sferik's tweet that mentions @BillBramhall)."""
    tweet: dict[str, Any] = shared(COMPOSED)["tweet_create_events"][0]
    return tweet


def sign(body: bytes, key: str | None = None) -> str:
    digest = hmac.new((key or secret()).encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def post_activity(
    admin: Any, channel_id: int, body: bytes | dict[str, Any], signature: str | None = ""
) -> Any:
    """POST a delivery as X does: signed with the consumer secret unless told otherwise."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[HEADER] = signature or sign(raw)
    return admin.client.post(f"/hooks/x/{channel_id}", content=raw, headers=headers)


@pytest.fixture
def x_api() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.routes = {
            "/2/tweets": [(201, {"data": {"id": OUR_TWEET, "text": "…"}})],
            "/messages": [(201, {"data": {"dm_conversation_id": "1-2", "dm_event_id": OUR_DM}})],
            "/2/media/upload": [(200, {"data": {"id": MEDIA_ID, "media_key": f"3_{MEDIA_ID}"}})],
            "/media/B4GnPkfIcAAgMOn.jpg": [(200, JPEG)],
        }
        yield provider


@pytest.fixture
def x_channel(channel: Any, x_api: FakeProvider) -> Any:
    def make(user_id: str, **settings: Any) -> dict[str, Any]:
        settings = {
            "api_base_url": x_api.base,
            "media_base_url": x_api.base,
            "consumer_secret": secret(),
            "access_token": TOKEN,
            **settings,
        }
        return channel("x", user_id=user_id, **settings)

    return make


def deliveries(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin.get(
        f"/api/v1/channels/{channel_id}/webhook-deliveries?limit=100"
    ).json()["items"]
    return found


def unsupported_types(admin: Any, channel_id: int) -> list[str]:
    return [
        u["event_type"]
        for d in deliveries(admin, channel_id)
        for u in (d["summary"] or {}).get("unsupported", [])
    ]


def reply(admin: Any, conversation_id: int, text: str, **extra: Any) -> dict[str, Any]:
    response = admin.post(
        f"/api/v1/conversations/{conversation_id}/replies", json={"text": text, **extra}
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def message_by_id(admin: Any, conversation_id: int, message_id: int) -> dict[str, Any]:
    return next(m for m in thread(admin, conversation_id) if m["id"] == message_id)


def mention(account: str, tweet: dict[str, Any]) -> dict[str, Any]:
    """A tweet in the documented envelope, delivered to the subscription of ``account``."""
    return {"for_user_id": account, "user_has_blocked": "false", "tweet_create_events": [tweet]}


BILL = "716351352"  # @BillBramhall, whom the real tweet mentions: our account in these tests
HARRISON = "4337869213"  # the account that receives the DM of X's example
JORDAN = "3001969357"  # the customer who sends it


# -- verification -----------------------------------------------------------------------------


def test_it_answers_the_crc_challenge_exactly_as_the_published_vector(admin, x_channel):
    ch = x_channel(BILL)
    crc = vectors()["crc_challenge"]
    query = crc["request"].split("?", 1)[1]
    response = admin.client.get(f"/hooks/x/{ch['id']}?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.text == crc["response_body"]


def test_it_refuses_a_crc_challenge_without_a_token(admin, x_channel):
    ch = x_channel(BILL)
    response = admin.client.get(f"/hooks/x/{ch['id']}?nonce=__NONCE__")
    assert response.status_code == 400
    assert "crc_token" in response.json()["error"]


def test_it_answers_no_crc_challenge_before_the_consumer_secret_is_set(admin, x_channel):
    ch = x_channel(BILL, consumer_secret="")
    response = admin.client.get(f"/hooks/x/{ch['id']}?crc_token=abc")
    assert response.status_code == 403
    assert "consumer_secret" in response.json()["error"]


def test_it_accepts_the_published_signed_body_and_keeps_the_deleted_tweet_aside(admin, x_channel):
    raw = (folder() / DELETE).read_bytes()
    published = vectors()["post_signature"]
    assert published["raw_body_file"] == DELETE
    assert sign(raw) == published["value"]
    ch = x_channel("930524282358325248")
    response = post_activity(admin, ch["id"], raw, published["value"])
    assert response.status_code == 200, response.text
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unsupported"
    assert unsupported_types(admin, ch["id"]) == ["tweet_delete_events"]
    assert conversations(admin) == []


def test_it_refuses_a_delivery_not_signed_with_the_consumer_secret_and_stores_nothing(
    admin, x_channel
):
    raw = (folder() / DM).read_bytes()
    ch = x_channel(HARRISON)
    hex_form = "sha256=" + hmac.new(secret().encode(), raw, hashlib.sha256).hexdigest()
    for signature in (None, sign(raw, "another-secret"), sign(raw + b" "), hex_form):
        response = post_activity(admin, ch["id"], raw, signature)
        assert response.status_code == 401, signature
        assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []
    assert conversations(admin) == []


# -- every shared file --------------------------------------------------------------------------


def test_it_takes_every_delivery_of_the_shared_folder(admin, x_channel):
    expected = {  # file -> (outcome, unsupported event types)
        COMPOSED: ("unsupported", ["echo"]),  # delivered to its own author: our own tweet
        DM: ("processed", []),
        DELETE: ("unsupported", ["tweet_delete_events"]),
    }
    files = sorted(folder().glob("*.json"))
    assert {p.name for p in files} == {*expected, VECTORS}  # the vectors: tests above
    for name, (outcome, kinds) in expected.items():
        raw = (folder() / name).read_bytes()
        ch = x_channel(shared(name)["for_user_id"])
        response = post_activity(admin, ch["id"], raw)
        assert response.status_code == 200, (name, response.text)
        [kept] = deliveries(admin, ch["id"])
        assert (kept["outcome"], unsupported_types(admin, ch["id"])) == (outcome, kinds), name
    [conversation] = conversations(admin)  # the DM only
    assert thread(admin, conversation["id"])[0]["text"] == "Hello World!"


# -- tweets -----------------------------------------------------------------------------------


def test_it_stores_a_mention_as_a_public_message_with_its_photo_and_the_authors_reach(
    admin, x_channel, x_api
):
    ch = x_channel(BILL)
    response = post_activity(admin, ch["id"], mention(BILL, real_tweet()))
    assert response.json()["duplicate"] is False
    [conversation] = conversations(admin)
    assert conversation["visibility"] == "public"
    [message] = thread(admin, conversation["id"])
    assert message["visibility"] == "public"
    assert message["provider_message_id"] == "540897316908331009"
    assert message["text"] == "Powerful cartoon by @BillBramhall: http://t.co/IOEbc5QoES"
    assert message["details"]["url"] == "https://x.com/sferik/status/540897316908331009"
    [photo] = message["attachments"]
    assert photo["filename"] == "B4GnPkfIcAAgMOn.jpg"
    assert admin.get(f"/api/v1/attachments/{photo['id']}").content == JPEG
    assert x_api.calls("/media/B4GnPkfIcAAgMOn.jpg")
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    assert customer["name"] == "Erik Berlin"
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"]) == ("x", "7505382")
    assert identity["attributes"] == {"handle": "@sferik", "followers": 5332, "verified": False}


def test_it_reads_the_whole_text_of_a_long_tweet(admin, x_channel):
    ch = x_channel(BILL)
    tweet = real_tweet()
    long_text = "@BillBramhall " + "Toujours pas de réponse à ma réclamation, " * 6
    tweet.update(
        truncated=True,
        text=long_text[:139] + "…",
        extended_tweet={"full_text": long_text, "extended_entities": tweet["extended_entities"]},
    )
    post_activity(admin, ch["id"], mention(BILL, tweet))
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    assert message["text"] == long_text
    assert len(message["attachments"]) == 1


def test_it_keeps_our_own_tweets_and_retweets_out_of_the_inbox(admin, x_channel):
    ch = x_channel(BILL)
    ours = real_tweet()
    ours["user"] = {**ours["user"], "id_str": BILL, "screen_name": "BillBramhall"}
    retweet = real_tweet()
    retweet.update(id_str="540897316908331777", retweeted_status=real_tweet())
    post_activity(admin, ch["id"], mention(BILL, ours))
    post_activity(admin, ch["id"], mention(BILL, retweet))
    assert sorted(unsupported_types(admin, ch["id"])) == ["echo", "retweet"]
    assert conversations(admin) == []


def test_it_stores_a_redelivered_tweet_once(admin, x_channel):
    ch = x_channel(BILL)
    body = mention(BILL, real_tweet())
    assert post_activity(admin, ch["id"], body).json()["duplicate"] is False
    assert post_activity(admin, ch["id"], body).json()["duplicate"] is True
    body["user_has_blocked"] = "true"  # another delivery carrying the same tweet
    assert post_activity(admin, ch["id"], body).json()["duplicate"] is False
    [conversation] = conversations(admin)
    assert len(thread(admin, conversation["id"])) == 1


def test_it_keeps_a_delivery_for_another_account_aside(admin, x_channel):
    ch = x_channel(BILL)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unsupported"
    [reason] = kept["summary"]["unsupported"]
    assert reason["event_type"] == "unknown_account"
    assert HARRISON in reason["reason"]
    assert conversations(admin) == []


def test_it_keeps_truncated_json_as_unreadable_and_says_so(admin, x_channel):
    ch = x_channel(BILL)
    response = post_activity(admin, ch["id"], b'{"for_user_id": "716351352", "tweet_cr')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unreadable"
    assert "not JSON" in kept["summary"]["error"]


def test_it_keeps_likes_follows_typing_and_revokes_aside(admin, x_channel):
    ch = x_channel(HARRISON)
    user = {"id": JORDAN, "screen_name": "furiouscamper"}
    activities = {  # shapes of developer.x.com's account activity data objects
        "favorite_events": [{"id": "a7ba59", "favorited_status": real_tweet(), "user": user}],
        "follow_events": [{"type": "follow", "source": user, "target": {"id": HARRISON}}],
        "direct_message_indicate_typing_events": [
            {"created_timestamp": "1518127183443", "sender_id": JORDAN, "target": {}}
        ],
        "user_event": {"revoke": {"date_time": "2018-05-24T09:48:12+00:00"}},
        "direct_message_mark_read_events": [  # our account read the customer's DMs
            {"sender_id": HARRISON, "last_read_event_id": "954491830116155396", "target": {}}
        ],
    }
    for key, events in activities.items():
        post_activity(admin, ch["id"], {"for_user_id": HARRISON, key: events})
    assert sorted(unsupported_types(admin, ch["id"])) == sorted(activities)
    assert conversations(admin) == []


# -- direct messages ------------------------------------------------------------------------


def test_it_stores_a_customers_dm_as_a_private_message(admin, x_channel):
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [conversation] = conversations(admin)
    assert conversation["visibility"] == "private"
    [message] = thread(admin, conversation["id"])
    assert (message["text"], message["visibility"]) == ("Hello World!", "private")
    assert message["provider_message_id"] == "954491830116155396"
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    assert customer["name"] == "Jordan Brinks"
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"]) == ("x", JORDAN)
    assert identity["attributes"]["handle"] == "@furiouscamper"


def test_it_keeps_a_dm_our_account_sent_as_an_echo(admin, x_channel):
    ch = x_channel(JORDAN)
    sent = shared(DM)
    sent["for_user_id"] = JORDAN  # the sender's own subscription sees the DM it sent
    post_activity(admin, ch["id"], sent)
    assert unsupported_types(admin, ch["id"]) == ["echo"]
    assert conversations(admin) == []


def test_it_puts_the_dm_and_the_public_mention_of_one_x_user_in_one_customer(admin, x_channel):
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], mention(HARRISON, real_tweet()))
    dm = shared(DM)  # now from sferik, who tweeted: his users entry has no follower count
    dm["direct_message_events"][0]["message_create"]["sender_id"] = "7505382"
    dm["users"]["7505382"] = {"id": "7505382", "name": "Erik Berlin", "screen_name": "sferik"}
    post_activity(admin, ch["id"], dm)
    found = conversations(admin)
    assert {c["visibility"] for c in found} == {"public", "private"}
    assert len({c["customer_id"] for c in found}) == 1
    customer = admin.get(f"/api/v1/customers/{found[0]['customer_id']}").json()
    [identity] = customer["identities"]
    assert identity["value"] == "7505382"
    assert identity["attributes"]["followers"] == 5332  # kept from the tweet
    assert identity["attributes"]["handle"] == "@sferik"
    assert len(admin.get("/api/v1/customers").json()["items"]) == 1


# -- replies ----------------------------------------------------------------------------------


def test_it_replies_under_the_tweet_and_threads_the_customers_answer(admin, x_channel, x_api):
    x_api.routes["/2/tweets"] = [
        (201, {"data": {"id": OUR_TWEET, "text": "…"}}),
        (201, {"data": {"id": "1800000000000000002", "text": "…"}}),
    ]
    ch = x_channel(BILL)
    first = real_tweet()
    later = real_tweet()  # the same author again, a week and more later: a new conversation
    later.update(id_str="541000000000000000", created_at="Mon Dec 22 10:00:00 +0000 2014")
    post_activity(admin, ch["id"], mention(BILL, first))
    post_activity(admin, ch["id"], mention(BILL, later))
    newer, older = conversations(admin)
    sent = reply(admin, older["id"], "Merci pour le partage, nous regardons cela.")
    reply(admin, newer["id"], "Bien reçu.")
    [call, _] = x_api.calls("/2/tweets")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.json()["reply"] == {"in_reply_to_tweet_id": "540897316908331009"}
    assert call.json()["text"].startswith("Merci pour le partage")
    shown = message_by_id(admin, older["id"], sent["id"])
    assert (shown["status"], shown["provider_message_id"]) == ("sent", OUR_TWEET)
    answer = real_tweet()
    answer.update(
        id_str="541100000000000000",
        text="@BillBramhall merci !",
        in_reply_to_status_id_str=OUR_TWEET,
        created_at="Mon Jan 05 10:00:00 +0000 2015",
        entities={},
    )
    del answer["extended_entities"]
    post_activity(admin, ch["id"], mention(BILL, answer))
    answered = [m["provider_message_id"] for m in thread(admin, older["id"])]
    assert answered == ["540897316908331009", "541100000000000000", OUR_TWEET]
    assert len(thread(admin, newer["id"])) == 2


def test_it_refuses_a_public_reply_longer_than_a_tweet(admin, x_channel, x_api):
    ch = x_channel(BILL)
    post_activity(admin, ch["id"], mention(BILL, real_tweet()))
    [conversation] = conversations(admin)
    sent = reply(admin, conversation["id"], "Nous sommes désolés. " * 15)
    shown = message_by_id(admin, conversation["id"], sent["id"])
    assert shown["status"] == "failed"
    assert "at most 280 characters" in shown["error"]
    assert "one per character" in shown["error"]
    assert x_api.calls("/2/tweets") == []


def test_it_answers_a_dm_with_a_dm_and_marks_it_read_when_x_says_so(admin, x_channel, x_api):
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [conversation] = conversations(admin)
    sent = reply(admin, conversation["id"], "Bonjour Jordan, que pouvons-nous faire ?")
    [call] = x_api.calls(f"/2/dm_conversations/with/{JORDAN}/messages")
    assert call.json()["text"].startswith("Bonjour Jordan")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert x_api.calls("/2/tweets") == []
    shown = message_by_id(admin, conversation["id"], sent["id"])
    assert (shown["status"], shown["provider_message_id"]) == ("sent", OUR_DM)
    read = {  # the shape of X's documented read receipt
        "for_user_id": HARRISON,
        "direct_message_mark_read_events": [
            {
                "created_timestamp": "1516403570557",
                "sender_id": JORDAN,
                "last_read_event_id": OUR_DM,
                "target": {"recipient_id": HARRISON},
            }
        ],
        "users": {},
    }
    post_activity(admin, ch["id"], read)
    assert message_by_id(admin, conversation["id"], sent["id"])["status"] == "read"


def test_it_sends_an_image_with_a_dm(admin, x_channel, x_api):
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [conversation] = conversations(admin)
    photo = {"filename": "colis.png", "content_type": "image/png", "content_base64": PNG_BASE64}
    sent = reply(admin, conversation["id"], "Voici la photo du colis.", attachments=[photo])
    [upload] = x_api.calls("/2/media/upload")
    assert b'name="media_category"\r\n\r\ndm_image' in upload.body
    assert base64.b64decode(PNG_BASE64) in upload.body
    [call] = x_api.calls("/messages")
    assert call.json()["attachments"] == [{"media_id": MEDIA_ID}]
    assert message_by_id(admin, conversation["id"], sent["id"])["status"] == "sent"


def test_it_answers_a_public_mention_in_private_when_asked(x_api):
    adapter = XAdapter()
    assert adapter.private_replies is True
    outbound = OutboundMessage(
        message_id=1,
        conversation_id=1,
        channel_settings={"api_base_url": x_api.base, "access_token": TOKEN},
        recipient=Recipient("x", "7505382", "Erik Berlin"),
        text="Pouvez-vous nous donner votre numéro de commande ici ?",
        html=None,
        visibility=Visibility.PUBLIC,
        in_reply_to="540897316908331009",
        options={"private_reply_to": "540897316908331009"},
    )
    assert adapter.send(outbound) == OUR_DM
    [call] = x_api.calls("/2/dm_conversations/with/7505382/messages")
    assert call.json() == {"text": "Pouvez-vous nous donner votre numéro de commande ici ?"}
    assert x_api.calls("/2/tweets") == []


def test_it_refuses_to_reply_in_public_without_a_tweet_to_answer(x_api):
    outbound = OutboundMessage(
        message_id=1,
        conversation_id=1,
        channel_settings={"api_base_url": x_api.base, "access_token": TOKEN},
        recipient=Recipient("x", "7505382"),
        text="Bonjour",
        html=None,
        visibility=Visibility.PUBLIC,
    )
    with pytest.raises(DeliveryError, match="answers a tweet") as refused:
        XAdapter().send(outbound)
    assert refused.value.permanent is True
    assert x_api.received == []


# -- refusals ---------------------------------------------------------------------------------


def test_it_flags_the_channel_when_x_refuses_the_token(admin, x_channel, x_api):
    problem = {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    x_api.routes["/messages"] = [(401, problem)]
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [conversation] = conversations(admin)
    sent = reply(admin, conversation["id"], "Bonjour")
    shown = message_by_id(admin, conversation["id"], sent["id"])
    assert shown["status"] == "failed"
    assert "Unauthorized" in shown["error"]
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is True


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        (
            {
                "title": "Forbidden",
                "type": "about:blank",
                "status": 403,
                "detail": "You are not allowed to create a Tweet with duplicate content.",
            },
            "You are not allowed to create a Tweet with duplicate content.",
        ),
        (
            {"errors": [{"code": 187, "message": "Status is a duplicate."}]},
            "Status is a duplicate.",
        ),
    ],
)
def test_it_fails_a_refused_reply_in_xs_own_words_without_retrying(
    admin, x_channel, x_api, refusal, words
):
    x_api.routes["/2/tweets"] = [(403, refusal)]
    ch = x_channel(BILL)
    post_activity(admin, ch["id"], mention(BILL, real_tweet()))
    [conversation] = conversations(admin)
    sent = reply(admin, conversation["id"], "Merci, nous regardons cela.")
    shown = message_by_id(admin, conversation["id"], sent["id"])
    assert shown["status"] == "failed"
    assert words in shown["error"]
    assert len(x_api.calls("/2/tweets")) == 1
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is False


def test_it_waits_until_xs_rate_limit_window_resets(admin, x_channel, x_api):
    from filrouge.jobs.queue import huey

    reset = str(int(time.time()) + 120)
    limited = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    x_api.routes["/messages"] = [
        (429, limited, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}),
        (201, {"data": {"dm_conversation_id": "1-2", "dm_event_id": OUR_DM}}),
    ]
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [conversation] = conversations(admin)
    sent = reply(admin, conversation["id"], "Bonjour")
    queued = message_by_id(admin, conversation["id"], sent["id"])
    assert queued["status"] == "queued"
    assert "Too Many Requests" in queued["error"]
    [scheduled] = [t for t in huey.scheduled() if t.args[:1] == (sent["id"],)]
    delay = (scheduled.eta - huey._get_timestamp()).total_seconds()
    assert 110 <= delay <= 121
    huey.storage.flush_schedule()
    deliver.call_local(sent["id"], 2)
    assert message_by_id(admin, conversation["id"], sent["id"])["status"] == "sent"


def test_it_keeps_the_tweet_without_its_photo_when_x_will_not_give_it(admin, x_channel, x_api):
    x_api.routes["/media/B4GnPkfIcAAgMOn.jpg"] = [(404, {"errors": [{"message": "gone"}]})]
    ch = x_channel(BILL)
    post_activity(admin, ch["id"], mention(BILL, real_tweet()))
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    [photo] = message["attachments"]
    assert photo["url"] == "https://pbs.twimg.com/media/B4GnPkfIcAAgMOn.jpg"
    assert photo["size"] is None  # a link to X's copy, nothing stored


# -- files of DMs (OAuth 1.0a) and videos in replies --------------------------------------

DM_PHOTO = "direct_message_events__message_create_with_photo.json"
DM_PHOTO_PATH = "/1.1/ton/data/dm/1455953461301055493/1455953456750579713/Ufcp9tdA.jpg"
OAUTH1 = {
    "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "oauth_token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
}
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4


def x_fixture(name: str) -> bytes:
    return (Path(x_package.__file__).parent / "fixtures" / name).read_bytes()


def oauth_params(header: str) -> dict[str, str]:
    """The parameters of an ``Authorization: OAuth k="v", …`` header, decoded."""
    assert header.startswith("OAuth "), header
    pairs = [item.strip().split("=", 1) for item in header[len("OAuth ") :].split(",")]
    assert all(len(p) == 2 and p[1].startswith('"') and p[1].endswith('"') for p in pairs)
    return {unquote(k): unquote(v[1:-1]) for k, v in pairs}


def rfc5849_signature(method: str, url: str, params: dict[str, str], key: str) -> str:
    """HMAC-SHA1 of RFC 5849's signature base string, written out here to check ours."""

    def enc(text: str) -> str:
        return quote(text, safe="~")

    signed = sorted((enc(k), enc(v)) for k, v in params.items() if k != "oauth_signature")
    normal = "&".join(f"{k}={v}" for k, v in signed)
    base = "&".join([method.upper(), enc(url), enc(normal)])
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_it_fetches_the_photo_of_a_dm_with_a_get_signed_oauth_1a(admin, x_channel, x_api):
    x_api.routes[DM_PHOTO_PATH] = [(200, JPEG)]
    ch = x_channel(HARRISON, **OAUTH1)
    post_activity(admin, ch["id"], x_fixture(DM_PHOTO))
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    [photo] = message["attachments"]
    assert photo["filename"] == "Ufcp9tdA.jpg"
    assert admin.get(f"/api/v1/attachments/{photo['id']}").content == JPEG
    [fetch] = x_api.calls(DM_PHOTO_PATH)
    assert fetch.method == "GET"
    params = oauth_params(fetch.headers["Authorization"])
    assert params["oauth_consumer_key"] == OAUTH1["consumer_key"]
    assert params["oauth_token"] == OAUTH1["oauth_token"]
    assert (params["oauth_signature_method"], params["oauth_version"]) == ("HMAC-SHA1", "1.0")
    assert abs(int(params["oauth_timestamp"]) - time.time()) < 60
    assert len(params["oauth_nonce"]) >= 16
    key = f"{quote(secret(), safe='~')}&{quote(OAUTH1['oauth_token_secret'], safe='~')}"
    expected = rfc5849_signature("GET", f"{x_api.base}{DM_PHOTO_PATH}", params, key)
    assert params["oauth_signature"] == expected


def test_it_keeps_a_dms_photo_as_a_link_without_oauth_1a_credentials(admin, x_channel, x_api):
    x_api.routes[DM_PHOTO_PATH] = [(200, JPEG)]
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], x_fixture(DM_PHOTO))
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    [photo] = message["attachments"]
    assert photo["url"] == f"https://ton.twitter.com{DM_PHOTO_PATH}"
    assert x_api.calls(DM_PHOTO_PATH) == []


def test_it_keeps_a_dms_photo_as_a_link_when_x_refuses_the_signature(admin, x_channel, x_api):
    x_api.routes[DM_PHOTO_PATH] = [(401, {"errors": [{"code": 32, "message": "Could not auth"}]})]
    ch = x_channel(HARRISON, **OAUTH1)
    post_activity(admin, ch["id"], x_fixture(DM_PHOTO))
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    assert message["text"].startswith("Voici le colis abîmé")
    [photo] = message["attachments"]
    assert photo["url"].startswith("https://ton.twitter.com/")


def video_upload_answers(processing: list[dict[str, Any]], appends: int = 1) -> list[Any]:
    """What X answers on /2/media/upload: INIT, the APPENDs, FINALIZE, then each STATUS."""
    init = (200, {"data": {"id": MEDIA_ID, "media_key": f"7_{MEDIA_ID}"}})
    finalize = (200, {"data": {"id": MEDIA_ID, "processing_info": processing[0]}})
    statuses = [(200, {"data": {"id": MEDIA_ID, "processing_info": p}}) for p in processing[1:]]
    return [init, *[(204, b"")] * appends, finalize, *statuses]


def form_fields(body: bytes) -> dict[str, bytes]:
    """The fields of a multipart body, by name."""
    fields = {}
    for part in body.split(b"--")[1:]:
        head, _, value = part.partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[-1].split(b'"', 1)[0].decode()
        if head.strip():
            fields[name] = value.removesuffix(b"\r\n")
    return fields


def test_it_uploads_a_video_in_parts_and_answers_under_the_tweet_with_it(
    admin, x_channel, x_api, monkeypatch
):
    monkeypatch.setattr(x_client, "CHUNK_BYTES", 500)
    pending = {"state": "pending", "check_after_secs": 0}
    x_api.routes["/2/media/upload"] = video_upload_answers(
        [pending, {"state": "in_progress", "check_after_secs": 0}, {"state": "succeeded"}], 3
    )
    ch = x_channel(BILL)
    post_activity(admin, ch["id"], mention(BILL, real_tweet()))
    [conversation] = conversations(admin)
    clip = {
        "filename": "colis.mp4",
        "content_type": "video/mp4",
        "content_base64": base64.b64encode(VIDEO).decode(),
    }
    sent = reply(admin, conversation["id"], "Voici la vidéo.", attachments=[clip])
    calls = x_api.calls("/2/media/upload")
    posts = [form_fields(c.body) for c in calls if c.method == "POST"]
    assert [f["command"] for f in posts] == [b"INIT", b"APPEND", b"APPEND", b"APPEND", b"FINALIZE"]
    init, *appends, finalize = posts
    assert init["media_type"] == b"video/mp4"
    assert init["total_bytes"] == str(len(VIDEO)).encode()
    assert init["media_category"] == b"tweet_video"
    assert [a["segment_index"] for a in appends] == [b"0", b"1", b"2"]
    assert b"".join(a["media"] for a in appends) == VIDEO
    assert {a["media_id"] for a in appends} | {finalize["media_id"]} == {MEDIA_ID.encode()}
    statuses = [c for c in calls if c.method == "GET"]
    assert len(statuses) == 2
    assert all(f"media_id={MEDIA_ID}" in c.path and "command=STATUS" in c.path for c in statuses)
    [tweet] = x_api.calls("/2/tweets")
    assert tweet.json()["media"] == {"media_ids": [MEDIA_ID]}
    assert all(c.headers["Authorization"] == f"Bearer {TOKEN}" for c in calls)
    assert message_by_id(admin, conversation["id"], sent["id"])["status"] == "sent"


def test_it_sends_a_video_with_a_dm_as_a_dm_video(admin, x_channel, x_api):
    x_api.routes["/2/media/upload"] = video_upload_answers([{"state": "succeeded"}])
    ch = x_channel(HARRISON)
    post_activity(admin, ch["id"], (folder() / DM).read_bytes())
    [conversation] = conversations(admin)
    clip = {
        "filename": "colis.mp4",
        "content_type": "video/mp4",
        "content_base64": base64.b64encode(VIDEO).decode(),
    }
    sent = reply(admin, conversation["id"], "La vidéo du colis.", attachments=[clip])
    posts = [form_fields(c.body) for c in x_api.calls("/2/media/upload")]
    assert [f["command"] for f in posts] == [b"INIT", b"APPEND", b"FINALIZE"]
    assert posts[0]["media_category"] == b"dm_video"
    assert posts[1]["media"] == VIDEO
    [call] = x_api.calls("/messages")
    assert call.json()["attachments"] == [{"media_id": MEDIA_ID}]
    assert message_by_id(admin, conversation["id"], sent["id"])["status"] == "sent"


def test_it_fails_a_reply_whose_video_x_could_not_process_in_xs_words(admin, x_channel, x_api):
    error = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
    pending = {"state": "pending", "check_after_secs": 0}
    x_api.routes["/2/media/upload"] = video_upload_answers(
        [pending, {"state": "failed", "error": error}]
    )
    ch = x_channel(BILL)
    post_activity(admin, ch["id"], mention(BILL, real_tweet()))
    [conversation] = conversations(admin)
    clip = {
        "filename": "colis.mp4",
        "content_type": "video/mp4",
        "content_base64": base64.b64encode(VIDEO).decode(),
    }
    sent = reply(admin, conversation["id"], "Voici la vidéo.", attachments=[clip])
    shown = message_by_id(admin, conversation["id"], sent["id"])
    assert shown["status"] == "failed"
    assert "Unsupported video format" in shown["error"]
    assert x_api.calls("/2/tweets") == []


def test_it_tries_again_later_when_x_takes_too_long_to_process_a_video(x_api, monkeypatch):
    monkeypatch.setattr(x_client, "MAX_PROCESSING_WAIT", 0.0)
    settings = {"api_base_url": x_api.base, "access_token": TOKEN}
    with pytest.raises(DeliveryError) as later:
        x_client.wait_until_processed(
            settings, MEDIA_ID, {"state": "pending", "check_after_secs": 5}
        )
    assert not later.value.permanent
    assert "still processing" in str(later.value)
    assert x_api.received == []


PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Erk"
    "Jggg=="
)
