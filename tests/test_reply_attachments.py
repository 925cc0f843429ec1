"""Files in replies: sent from the composer or the API, stored once, shown in the thread, served
only to those who may see the conversation, delivered with their bytes intact, and refused
whole (nothing written) when they break a limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from fake_provider import fake_provider
from filrouge.core.models import Attachment, Event, Message, User
from filrouge.core.uploads import clean_filename, content_type_of
from filrouge.jobs.deliveries import deliver
from filrouge.web.app import create_app
from helpers import receive

# A PNG header, then every byte value (NUL, CR, LF…): what arrives must be exactly this.
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"facture " * 50


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def counts(factory: Any) -> list[int]:
    """Messages, attachments and events: a refusal must leave all three as they were."""
    with factory() as session:
        return [
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Message, Attachment, Event)
        ]


def blobs_in(settings: Any) -> int:
    root: Path = settings.attachments_dir
    return sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0


def conversation_on_api_channel(admin: Any, channel: Any, url: str, **settings: Any) -> int:
    ch = channel("api", outbound_url=url, **settings)
    received = receive(admin, ch["id"], "jeanne@example.fr", text="Mon colis est abîmé")
    return int(received["conversation_id"])


def reply_with(admin: Any, conversation_id: int, *files: dict[str, Any]) -> Any:
    return admin.post(
        f"/api/v1/conversations/{conversation_id}/replies",
        json={"text": "Voici la photo du colis.", "attachments": list(files)},
    )


def test_it_sends_a_photo_with_a_reply(admin, channel, factory, settings):
    with fake_provider() as provider:
        cid = conversation_on_api_channel(admin, channel, provider.url, outbound_secret="s3cret")
        photo = {"filename": "colis.png", "content_type": "image/png", "content_base64": b64(PHOTO)}
        response = reply_with(admin, cid, photo)
        assert response.status_code == 201, response.text
        sent = provider.received[0]
    listed = response.json()["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in listed] == [
        ("colis.png", "image/png", len(PHOTO))
    ]
    payload = sent.json()["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in payload] == [
        ("colis.png", "image/png", len(PHOTO))
    ]
    assert base64.b64decode(payload[0]["content_base64"]) == PHOTO
    assert payload[0]["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    expected = hmac.new(b"s3cret", sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["X-Filrouge-Signature"] == f"sha256={expected}"
    message = admin.get(f"/api/v1/conversations/{cid}").json()["messages"][-1]
    assert (message["status"], message["attachments"]) == ("sent", listed)
    download = admin.get(f"/api/v1/attachments/{listed[0]['id']}")
    assert (download.status_code, download.content) == (200, PHOTO)
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("inline;")
    assert download.headers["x-content-type-options"] == "nosniff"
    with factory() as session:
        added = session.scalars(select(Event).where(Event.action == "reply.added")).one()
    assert added.after is not None
    assert added.after["attachment_ids"] == [listed[0]["id"]]


def test_it_serves_a_reply_file_only_to_those_who_see_the_conversation(
    admin, channel, make_caller, make_browser
):
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    reply = reply_with(admin, cid, {"filename": "facture.pdf", "content_base64": b64(PDF)})
    attachment = reply.json()["attachments"][0]
    assert attachment["content_type"] == "application/pdf"
    outsider = make_caller("contributor")  # no expertise, nothing assigned
    assert outsider.get(f"/api/v1/attachments/{attachment['id']}").status_code == 404
    outsider_page = make_browser("contributor", email="vendeur@example.test")
    assert outsider_page.get(f"/attachments/{attachment['id']}").status_code == 404
    agent = make_browser("agent")
    download = agent.get(f"/attachments/{attachment['id']}")
    assert (download.status_code, download.content) == (200, PDF)
    assert download.headers["content-disposition"].startswith("attachment;")


def test_it_sends_a_photo_from_the_composer(make_browser, admin, channel, factory, settings):
    with fake_provider() as provider:
        cid = conversation_on_api_channel(admin, channel, provider.url)
        browser = make_browser("agent", name="Léa Martin")
        page = browser.get(f"/conversations/{cid}").text
        assert 'enctype="multipart/form-data"' in page
        assert 'type="file" name="files"' in page
        response = browser.post(
            f"/conversations/{cid}/reply",
            {"text": "Voici l'étiquette de retour."},
            files=[
                ("files", ("colis.png", PHOTO, "image/png")),
                ("files", ("étiquette.pdf", PDF, "application/pdf")),
            ],
        )
        assert response.status_code == 303, response.text
        delivered = provider.received[0].json()["attachments"]
    assert [base64.b64decode(a["content_base64"]) for a in delivered] == [PHOTO, PDF]
    assert [a["filename"] for a in delivered] == ["colis.png", "étiquette.pdf"]
    with factory() as session:
        photo, pdf = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert (photo.content_type, pdf.content_type) == ("image/png", "application/pdf")
    assert blobs_in(settings) == 2
    thread = browser.get(f"/conversations/{cid}").text
    assert f'<img class="attachment" src="/attachments/{photo.id}"' in thread
    assert f'href="/attachments/{pdf.id}" download="étiquette.pdf"' in thread
    assert browser.get(f"/attachments/{photo.id}").content == PHOTO


def test_it_refuses_an_oversized_file_from_the_composer_and_writes_nothing(
    make_browser, admin, channel, factory, settings
):
    settings.max_attachment_bytes = 1000
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    browser = make_browser("agent")
    before = counts(factory)
    response = browser.post(
        f"/conversations/{cid}/reply",
        {"text": "Voici la vidéo."},
        files=[
            ("files", ("petit.png", PHOTO[:500], "image/png")),
            ("files", ("grand-colis.png", PHOTO, "image/png")),
        ],
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert "grand-colis.png" in response.text  # which file, in the agent's language
    assert counts(factory) == before
    assert blobs_in(settings) == 0


def test_it_refuses_an_oversized_file_through_the_api_and_writes_nothing(
    admin, channel, factory, settings
):
    settings.max_attachment_bytes = 1000
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    before = counts(factory)
    response = reply_with(
        admin,
        cid,
        {"filename": "ok.png", "content_base64": b64(PHOTO[:500])},
        {"filename": "big.png", "content_base64": b64(PHOTO)},
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("attachment_too_large", "attachments.1")
    assert "big.png" in error["message"]
    assert counts(factory) == before
    assert blobs_in(settings) == 0


def test_it_refuses_more_files_than_a_reply_may_carry(
    make_browser, admin, channel, factory, settings
):
    settings.max_reply_attachments = 2
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    browser = make_browser("agent")
    before = counts(factory)
    three = [{"filename": f"p{i}.png", "content_base64": b64(PHOTO)} for i in range(3)]
    response = reply_with(admin, cid, *three)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "too_many_attachments"
    page = browser.post(
        f"/conversations/{cid}/reply",
        {"text": "Trois photos."},
        files=[("files", (f"p{i}.png", PHOTO, "image/png")) for i in range(3)],
    )
    assert page.status_code == 422
    assert 'role="alert"' in page.text
    assert counts(factory) == before
    assert blobs_in(settings) == 0


def test_it_refuses_an_empty_file_and_bad_base64(admin, channel, factory, settings):
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    before = counts(factory)
    empty = reply_with(admin, cid, {"filename": "vide.pdf", "content_base64": ""})
    error = empty.json()["error"]
    assert (empty.status_code, error["code"]) == (422, "attachment_empty")
    assert "vide.pdf" in error["message"]
    bad = reply_with(admin, cid, {"filename": "x.png", "content_base64": "pas du base64 !"})
    error = bad.json()["error"]
    assert (bad.status_code, error["code"]) == (422, "invalid_base64")
    assert error["field"] == "attachments.0.content_base64"
    assert counts(factory) == before
    assert blobs_in(settings) == 0


def test_it_refuses_a_forged_csrf_token_on_the_multipart_composer(
    make_browser, admin, channel, factory, settings
):
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    browser = make_browser("agent")
    before = counts(factory)
    photo = [("files", ("colis.png", PHOTO, "image/png"))]
    forged = browser.client.post(
        f"/conversations/{cid}/reply",
        data={"csrf_token": "forged", "text": "Bonjour"},
        files=photo,
    )
    missing = browser.client.post(
        f"/conversations/{cid}/reply", data={"text": "Bonjour"}, files=photo
    )
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert counts(factory) == before
    assert blobs_in(settings) == 0


def test_it_answers_a_body_over_the_request_limit_with_a_page_or_json(settings, engine):
    small = create_app(settings.model_copy(update={"max_request_bytes": 4096}), engine)
    client = TestClient(small, follow_redirects=False)
    files = [("files", ("colis.png", PHOTO * 4, "image/png"))]
    page = client.post(
        "/conversations/1/reply",
        data={"text": "Bonjour"},
        files=files,
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert "Send fewer or smaller files" in page.text
    api = client.post("/api/v1/conversations/1/replies", content=b"{" + b" " * 5000 + b"}")
    assert api.status_code == 413
    assert api.json()["error"]["code"] == "request_too_large"


def test_it_sends_a_contributors_file_once_the_reply_is_approved(
    make_caller, make_browser, admin, channel, factory
):
    with fake_provider() as provider:
        cid = conversation_on_api_channel(admin, channel, provider.url)
        admin.patch(f"/api/v1/conversations/{cid}", json={"tags": ["literie"]})
        contributor = make_caller("contributor")
        with factory() as session, session.begin():
            session.execute(
                update(User).where(User.id == contributor.user.id).values(expertise=["literie"])
            )
        waiting = reply_with(
            contributor, cid, {"filename": "sommier.png", "content_base64": b64(PHOTO)}
        )
        assert waiting.json()["status"] == "awaiting_approval"
        assert provider.received == []
        supervisor = make_browser("supervisor", email="chef@example.test")
        assert "sommier.png" in supervisor.get("/approvals").text
        approved = supervisor.post(f"/approvals/{waiting.json()['id']}/approve")
        assert approved.status_code == 303
        delivered = provider.received[0].json()["attachments"]
    assert base64.b64decode(delivered[0]["content_base64"]) == PHOTO


def test_it_fails_a_delivery_whose_file_left_the_store(admin, channel, settings):
    with fake_provider() as provider:
        provider.answers = [(503, {})]  # the first attempt leaves the reply queued
        cid = conversation_on_api_channel(admin, channel, provider.url)
        reply = reply_with(admin, cid, {"filename": "colis.png", "content_base64": b64(PHOTO)})
        for path in settings.attachments_dir.rglob("*"):
            if path.is_file():
                path.unlink()
        deliver.call_local(reply.json()["id"])
    message = admin.get(f"/api/v1/conversations/{cid}").json()["messages"][-1]
    assert message["status"] == "failed"
    assert "missing from the store" in message["error"]


def test_it_names_and_types_files_so_that_they_can_never_run():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\léa\\photo colis.jpg") == "photo colis.jpg"
    assert clean_filename("facture\u202efdp.exe") == "facturefdp.exe"  # no right-to-left trick
    assert clean_filename("a\x00b\r\nc<>.png") == "abc__.png"
    assert clean_filename("..") == ""
    assert len(clean_filename("x" * 300 + ".jpeg")) == 200
    assert clean_filename("x" * 300 + ".jpeg").endswith(".jpeg")
    assert content_type_of("image/png", "colis.png", b"\xff\xd8\xff\xe0 jpeg") == "image/jpeg"
    assert content_type_of("image/png", "colis.png", b"<script>alert(1)</script>") == (
        "application/octet-stream"
    )
    assert content_type_of("text/html", "page.html", b"<html>") == "application/octet-stream"
    assert content_type_of("", "logo.svg", b"<svg onload=alert(1)>") == "application/octet-stream"
    assert content_type_of("Application/PDF; x=1", "f", b"not really") == "application/pdf"
    assert content_type_of("application/octet-stream", "notes.txt", b"hello") == "text/plain"
    assert content_type_of("", "clip.mp4", b"\x00\x00\x00\x18ftypmp42") == "video/mp4"


def test_it_serves_a_file_that_claims_to_be_a_page_as_a_download(admin, channel):
    cid = conversation_on_api_channel(admin, channel, "http://127.0.0.1:9/hook")
    page = {
        "filename": "<i>page<i>.html",
        "content_type": "text/html",
        "content_base64": b64(b"<script>alert(document.cookie)</script>"),
    }
    stored = reply_with(admin, cid, page).json()["attachments"][0]
    assert (stored["filename"], stored["content_type"]) == (
        "_i_page_i_.html",
        "application/octet-stream",
    )
    download = admin.get(f"/api/v1/attachments/{stored['id']}")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["content-security-policy"]
