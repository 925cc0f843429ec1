"""Provider webhooks under load: a burst of concurrent signed deliveries is answered, stored
once each and read; an answer never comes before its delivery is committed; refusals keep
their shape and language on the lean route; on SQLite the webhook writer goes first."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.webhooks import HookRequest
from filrouge.core.actions.webhooks import store_delivery
from filrouge.core.models import WebhookDelivery
from filrouge.db import create_db_engine, make_session_factory, write_gate, writes_first
from filrouge.jobs.webhooks import drain
from helpers import conversations, thread

SECRET = "burst-secret_for-tests"
HEADERS = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}


def update(n: int) -> bytes:
    message = {
        "message_id": n,
        "date": 1_700_000_000 + n,
        "chat": {"id": 5000 + n % 7, "type": "private"},
        "from": {"id": 5000 + n % 7, "first_name": f"Client {n % 7}"},
        "text": f"Où en est ma commande {n} ?",
    }
    return json.dumps({"update_id": n, "message": message}).encode()


@pytest.fixture
def telegram(channel: Any) -> dict[str, Any]:
    created: dict[str, Any] = channel("telegram", secret_token=SECRET, bot_token="123:abc")
    return created


def post(admin: Any, channel_id: int, body: bytes, **headers: str) -> Any:
    return admin.client.post(
        f"/hooks/telegram/{channel_id}", content=body, headers={**HEADERS, **headers}
    )


def stored_rows(factory: sessionmaker[Session], channel_id: int) -> list[Any]:
    with factory() as session:
        query = select(WebhookDelivery.digest, WebhookDelivery.outcome).where(
            WebhookDelivery.channel_id == channel_id
        )
        return list(session.execute(query))


def test_it_stores_a_burst_of_concurrent_deliveries_once_each_and_reads_them_all(
    admin, telegram, factory
):
    bodies = [update(n) for n in range(60)] * 2  # every delivery sent twice, at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda body: post(admin, telegram["id"], body), bodies))
    assert {a.status_code for a in answers} == {200}
    by_body: dict[bytes, list[dict[str, Any]]] = {}
    for body, answer in zip(bodies, answers, strict=True):
        by_body.setdefault(body, []).append(answer.json())
    for pair in by_body.values():
        assert sorted(a["duplicate"] for a in pair) == [False, True]
        assert pair[0]["delivery_id"] == pair[1]["delivery_id"]
    rows = stored_rows(factory, telegram["id"])
    assert len(rows) == 60
    assert {row.outcome for row in rows} == {"processed"}
    threads = [thread(admin, c["id"]) for c in conversations(admin)]
    assert len(threads) == 7  # one per customer
    assert sorted(m["text"] for t in threads for m in t) == sorted(
        f"Où en est ma commande {n} ?" for n in range(60)
    )


def test_it_answers_a_delivery_only_once_it_is_committed(admin, telegram, engine, factory):
    """A drain (here: any transaction) holds the database; the delivery waits for it, then is
    answered, and is in the database when the provider reads the answer."""
    assert post(admin, telegram["id"], update(0)).status_code == 200  # the channel is read
    answer: dict[str, Any] = {}
    held = factory()
    hold_the_database(held, engine.dialect.name)
    sender = threading.Thread(
        target=lambda: answer.update(response=post(admin, telegram["id"], update(1)))
    )
    sender.start()
    sender.join(timeout=1.0)
    assert sender.is_alive()  # not answered: its write waits for the transaction
    assert "response" not in answer
    held.commit()
    held.close()
    sender.join(timeout=30)
    assert answer["response"].status_code == 200
    delivery_id = answer["response"].json()["delivery_id"]
    with factory() as session:
        assert session.get(WebhookDelivery, delivery_id) is not None


def hold_the_database(session: Session, dialect: str) -> None:
    if dialect == "postgresql":  # what a writer needs: the table, in a mode inserts wait for
        session.execute(text("LOCK TABLE webhook_deliveries IN EXCLUSIVE MODE"))
    else:  # SQLite: every transaction takes the one write lock (BEGIN IMMEDIATE)
        session.execute(text("SELECT 1"))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "L'envoi n'est pas signé avec le secret de ce canal."),
        ("en", "The delivery is not signed with this channel's secret."),
    ],
)
def test_it_refuses_a_badly_signed_delivery_in_the_callers_language(
    admin, telegram, factory, language, message
):
    answer = post(
        admin,
        telegram["id"],
        update(1),
        **{"X-Telegram-Bot-Api-Secret-Token": "wrong", "Accept-Language": language},
    )
    assert answer.status_code == 401
    assert answer.json() == {"error": {"code": "invalid_signature", "message": message}}
    assert stored_rows(factory, telegram["id"]) == []


def test_it_refuses_every_delivery_of_a_burst_for_an_unknown_channel(admin):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: post(admin, 999_999, update(n)), range(16)))
    assert {a.status_code for a in answers} == {404}
    assert {a.json()["error"]["code"] for a in answers} == {"unknown_channel"}


def test_it_answers_a_kind_it_does_not_know_as_an_invalid_address(admin):
    answer = admin.client.post("/hooks/carrier-pigeon/1", content=b"{}", headers=HEADERS)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_field"


def test_it_refuses_a_delivery_announced_over_the_limit_before_reading_it(admin, telegram, factory):
    huge = b'{"update_id": 1, "text": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    answer = post(admin, telegram["id"], huge, **{"Accept-Language": "en"})
    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "code": "payload_too_large",
        "message": "A delivery is at most 2097152 bytes.",
    }
    assert stored_rows(factory, telegram["id"]) == []


def test_it_lets_the_webhook_writer_go_before_the_waiting_transactions_on_sqlite(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path}/gate.db")
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        session.execute(text("CREATE TABLE turns (who TEXT)"))
    holder = factory()
    holder.execute(text("INSERT INTO turns VALUES ('holder')"))  # takes the write lock
    waiting = [threading.Thread(target=write_turn, args=(factory, f"drain {n}")) for n in range(3)]
    for waiter in waiting:
        waiter.start()
    first = threading.Thread(target=write_turn, args=(factory, "writer", True))
    wait_until_waiting(engine, 3)
    first.start()
    wait_until_waiting(engine, 4)
    holder.commit()
    holder.close()
    for writer in [*waiting, first]:
        writer.join(timeout=30)
    with factory() as session:
        order = [row.who for row in session.execute(text("SELECT who FROM turns ORDER BY rowid"))]
    assert order[:2] == ["holder", "writer"]
    assert sorted(order[2:]) == ["drain 0", "drain 1", "drain 2"]
    engine.dispose()


def write_turn(factory: sessionmaker[Session], who: str, first: bool = False) -> None:
    if first:
        writes_first()
    with factory() as session, session.begin():
        session.execute(text("INSERT INTO turns VALUES (:who)"), {"who": who})


def wait_until_waiting(engine: Any, count: int) -> None:
    """Until ``count`` threads wait for their turn at the engine's gate."""
    gate = write_gate(engine)
    assert gate is not None
    for _ in range(3000):
        if gate.waiting >= count:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"fewer than {count} transactions are waiting")


def test_it_reads_every_delivery_of_a_burst_still_arriving(admin, telegram, factory):
    """Deliveries stored a moment ago: the drain reads them in small batches, and all of them."""
    for n in range(20):
        hook = HookRequest(url="http://127.0.0.1/hooks/telegram", headers={}, body=update(n))
        store_delivery(factory, telegram["id"], "telegram", hook)
    assert drain() == 20
    assert {row.outcome for row in stored_rows(factory, telegram["id"])} == {"processed"}
    assert sum(len(thread(admin, c["id"])) for c in conversations(admin)) == 20
