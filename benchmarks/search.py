"""Search benchmark: ~200 realistic queries (one word, two words, rare and common words, a
phrase, a prefix being typed, a phone number, with and without a channel or date filter) over
1,000,000 messages in 200,000 conversations of 100,000 customers, on SQLite and, when
configured, on PostgreSQL (database ``wt_search_bench`` beside FILROUGE_BENCH_DATABASE_URL or
FILROUGE_TEST_DATABASE_URL). Prints ``BENCH search <db> p50=… p95=… p99=…``; the data are
written with executemany in one transaction (the index triggers run as in production).

    .venv/bin/python benchmarks/search.py [--messages 1000000] [--queries 200]
    .venv/bin/python benchmarks/search.py --skip-sqlite --keep           # PostgreSQL, kept
    .venv/bin/python benchmarks/search.py --skip-sqlite --reuse --slowest 20  # search it again

The queries are drawn from their own seed: a reused database gets the same 200 queries.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, insert, make_url, select, text
from sqlalchemy.orm import Session

from filrouge.core.actions.users import create_user, ensure_workspace
from filrouge.core.models import ChannelAccount, Conversation, Customer, Identity, Message, User
from filrouge.core.search import SearchFilters, search
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.schema import migrate

FRENCH = [
    "bonjour",
    "commande",
    "colis",
    "livraison",
    "retard",
    "remboursement",
    "réclamation",
    "facture",
    "produit",
    "article",
    "taille",
    "couleur",
    "échange",
    "retour",
    "magasin",
    "carte",
    "paiement",
    "adresse",
    "numéro",
    "suivi",
    "transporteur",
    "semaine",
    "jour",
    "délai",
    "abîmé",
    "cassé",
    "manquant",
    "erreur",
    "service",
    "client",
    "conseiller",
    "merci",
    "cordialement",
    "madame",
    "monsieur",
    "problème",
    "question",
    "garantie",
    "réparation",
    "lampe",
    "canapé",
    "table",
    "chaise",
    "coussin",
    "rideau",
    "tapis",
    "vaisselle",
    "verre",
    "assiette",
    "livré",
    "reçu",
    "envoyé",
    "annulé",
    "urgent",
    "depuis",
    "toujours",
    "encore",
    "aujourd'hui",
    "demain",
    "hier",
    "attendre",
    "rappeler",
    "téléphone",
    "mail",
    "courrier",
    "prélèvement",
    "avoir",
    "bon",
]
ENGLISH = [
    "hello",
    "order",
    "parcel",
    "delivery",
    "late",
    "refund",
    "complaint",
    "invoice",
    "product",
    "item",
    "size",
    "colour",
    "exchange",
    "return",
    "store",
    "card",
    "payment",
    "address",
    "number",
    "tracking",
    "carrier",
    "week",
    "day",
    "delay",
    "damaged",
    "broken",
    "missing",
    "error",
    "customer",
    "service",
    "agent",
    "thanks",
    "regards",
    "problem",
    "question",
    "warranty",
    "repair",
    "lamp",
    "sofa",
    "table",
    "chair",
    "cushion",
    "curtain",
    "rug",
    "dishes",
    "glass",
    "plate",
    "delivered",
    "received",
    "sent",
    "cancelled",
    "urgent",
    "since",
    "still",
    "today",
    "tomorrow",
    "yesterday",
    "wait",
    "call",
    "phone",
    "email",
    "letter",
]
FILLER = [
    "je",
    "le",
    "la",
    "les",
    "un",
    "une",
    "de",
    "du",
    "des",
    "et",
    "à",
    "pour",
    "mon",
    "ma",
    "mes",
    "est",
    "pas",
    "que",
    "qui",
    "the",
    "a",
    "my",
    "is",
    "not",
]
RARE = [f"réf{n:05d}" for n in range(2000)]  # product references: each in a few messages
START = datetime(2025, 1, 1, tzinfo=UTC)


def sentence(rng: random.Random) -> str:
    vocabulary = FRENCH if rng.random() < 0.7 else ENGLISH
    length = min(int(rng.lognormvariate(3.0, 0.6)) + 4, 150)
    words = []
    for _ in range(length):
        roll = rng.random()
        if roll < 0.35:
            words.append(rng.choice(FILLER))
        elif roll < 0.998:
            words.append(vocabulary[min(int(rng.paretovariate(1.1)) - 1, len(vocabulary) - 1)])
        else:
            words.append(rng.choice(RARE))
    return " ".join(words).capitalize() + "."


def build(engine: Engine, messages: int, rng: random.Random) -> tuple[int, list[int]]:
    """The workspace's admin and its channel ids; customers, conversations and messages."""
    customers, conversations = messages // 10, messages // 5
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        workspace = ensure_workspace(session, "Bench")
        user = create_user(session, workspace.id, "bench@example.test", "x" * 12, "admin", "B")
        channels = [ChannelAccount(workspace_id=workspace.id, kind=k, name=k) for k in KINDS]
        session.add_all(channels)
        session.flush()
        ids = [c.id for c in channels]
        _bulk(session, Customer, _customers(workspace.id, customers, rng))
        _bulk(session, Identity, _identities(workspace.id, customers))
        _bulk(
            session, Conversation, _conversations(workspace.id, conversations, customers, ids, rng)
        )
        _bulk(session, Message, _messages(messages, conversations, ids, rng))
        return user.id, ids


KINDS = ("email", "sms", "whatsapp")
NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
]
FIRST = [
    "Jeanne",
    "Louis",
    "Camille",
    "Léa",
    "Hugo",
    "Chloé",
    "Lucas",
    "Manon",
    "Élodie",
    "Théo",
    "Inès",
    "Nathan",
]


def _customers(workspace_id: int, count: int, rng: random.Random) -> Any:
    for n in range(1, count + 1):
        yield {
            "id": n,
            "workspace_id": workspace_id,
            "name": f"{rng.choice(FIRST)} {rng.choice(NAMES)}",
            "attributes": {},
            "created_at": START,
            "updated_at": START,
        }


def _identities(workspace_id: int, count: int) -> Any:
    for n in range(1, count + 1):
        common = {"workspace_id": workspace_id, "customer_id": n, "verified": False}
        yield {**common, "kind": "email", "value": f"client{n}@exemple.fr", "created_at": START}
        yield {**common, "kind": "phone", "value": f"+336{n:08d}", "created_at": START}


def _conversations(
    workspace_id: int, count: int, customers: int, channels: list[int], rng: random.Random
) -> Any:
    for n in range(1, count + 1):
        channel = rng.choice(channels)
        moment = START + timedelta(minutes=n)
        yield {
            "id": n,
            "workspace_id": workspace_id,
            "customer_id": rng.randint(1, customers),
            "origin_channel_id": channel,
            "channel_id": channel,
            "status": rng.choice(("new", "open", "pending", "resolved", "closed")),
            "priority": "normal",
            "visibility": "private",
            "subject": sentence(rng)[:80] if rng.random() < 0.3 else None,
            "last_activity_at": moment,
            "created_at": moment,
            "updated_at": moment,
        }


def _messages(count: int, conversations: int, channels: list[int], rng: random.Random) -> Any:
    for n in range(1, count + 1):
        moment = START + timedelta(seconds=30 * n)
        yield {
            "conversation_id": rng.randint(1, conversations),
            "channel_id": rng.choice(channels),
            "direction": "inbound" if rng.random() < 0.6 else "outbound",
            "text": sentence(rng),
            "status": "received",
            "visibility": "private",
            "occurred_at": moment,
            "created_at": moment,
        }


def _bulk(session: Session, model: Any, rows: Any, batch: int = 5000) -> None:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            session.execute(insert(model), chunk)
            chunk = []
    if chunk:
        session.execute(insert(model), chunk)


def queries(rng: random.Random, count: int, channels: list[int]) -> list[tuple[str, SearchFilters]]:
    common = FRENCH[:8] + ENGLISH[:6]
    uncommon = FRENCH[25:] + ENGLISH[25:]
    shapes = [
        lambda: rng.choice(common),
        lambda: rng.choice(uncommon),
        lambda: f"{rng.choice(common)} {rng.choice(uncommon)}",
        lambda: f"{rng.choice(uncommon)} {rng.choice(uncommon)}",
        lambda: rng.choice(RARE),
        lambda: f'"{rng.choice(FRENCH[:20])} {rng.choice(FILLER)}"',
        lambda: rng.choice(uncommon)[: rng.randint(3, 5)],  # being typed
        lambda: f"{rng.choice(common)} {rng.choice(uncommon)[:4]}",
        lambda: f"06 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d} 00 1{rng.randint(0, 9)}",
        lambda: f"client{rng.randint(1, 90000)}@exemple.fr",
    ]
    since = START + timedelta(days=60)
    filters = [
        SearchFilters(),
        SearchFilters(kinds=("messages",)),
        SearchFilters(kinds=("messages",), channel_id=rng.choice(channels)),
        SearchFilters(kinds=("messages",), since=since, until=since + timedelta(days=30)),
    ]
    return [(rng.choice(shapes)(), rng.choice(filters)) for _ in range(count)]


def built(engine: Engine) -> tuple[int, list[int]] | None:
    """The admin and channel ids of a database a previous ``--keep`` run built, if any."""
    with engine.connect() as connection:
        user_id = connection.scalar(select(User.id).limit(1))
        channels = list(connection.scalars(select(ChannelAccount.id).order_by(ChannelAccount.id)))
        has_messages = connection.scalar(select(Message.id).limit(1)) is not None
    return (user_id, channels) if user_id is not None and has_messages else None


def bench(name: str, engine: Engine, messages: int, count: int, slowest: int = 0) -> None:
    began = time.perf_counter()
    existing = built(engine)
    user_id, channels = existing or build(engine, messages, random.Random(6))
    build_seconds = time.perf_counter() - began
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    factory = make_session_factory(engine)
    samples: list[float] = []
    cpu: list[float] = []  # this process's CPU: SQLite's work, whatever else the machine runs
    hits = 0
    timed: list[tuple[float, str, SearchFilters]] = []
    with transaction(factory) as session:
        user = session.get(User, user_id)
        assert user is not None
        for typed, filters in queries(random.Random(7), count, channels):
            started, cpu_started = time.perf_counter(), time.process_time()
            found = search(session, user, typed, filters, limit=20)
            samples.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            hits += bool(found.hits)
            timed.append((samples[-1], typed, filters))
        total = session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))
    q = statistics.quantiles(samples, n=100)
    c = statistics.quantiles(cpu, n=100)
    print(
        f"BENCH search {name} p50={q[49] * 1000:.1f}ms p95={q[94] * 1000:.1f}ms "
        f"p99={q[98] * 1000:.1f}ms max={max(samples) * 1000:.0f}ms "
        f"client_cpu_p50={c[49] * 1000:.1f}ms client_cpu_p95={c[94] * 1000:.1f}ms "
        f"queries={count} with_hits={hits} messages={total} build_s={build_seconds:.0f} "
        f"load_1min={os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for seconds, typed, filters in sorted(timed, key=lambda t: t[0], reverse=True)[:slowest]:
        print(f"  {seconds * 1000:7.1f} ms  {typed!r}  {filters}")


def bench_database(base_url: str, reuse: bool = False) -> str:
    """A dedicated database ``wt_search_bench`` on the same server, created empty (or kept
    as a ``--keep`` run left it, with ``reuse``)."""
    base = make_url(base_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = 'wt_search_bench'")
        )
        if not (reuse and exists):
            connection.execute(text("DROP DATABASE IF EXISTS wt_search_bench"))
            connection.execute(text("CREATE DATABASE wt_search_bench"))
    admin.dispose()
    return base.set(database="wt_search_bench").render_as_string(hide_password=False)


def drop_bench_database(base_url: str) -> None:
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS wt_search_bench"))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse", action="store_true", help="search the database a --keep run left (PostgreSQL)"
    )
    parser.add_argument("--slowest", type=int, default=0, help="print the N slowest queries")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="filrouge-search-") as tmp:
            engine = create_db_engine(f"sqlite:///{tmp}/search.db")
            migrate(engine)
            bench("sqlite", engine, args.messages, args.queries, args.slowest)
            engine.dispose()
    pg_url = os.environ.get("FILROUGE_BENCH_DATABASE_URL") or os.environ.get(
        "FILROUGE_TEST_DATABASE_URL"
    )
    if pg_url:
        engine = create_db_engine(bench_database(pg_url, args.reuse))
        migrate(engine)
        try:
            bench("postgresql", engine, args.messages, args.queries, args.slowest)
        finally:
            engine.dispose()
            if not args.keep:
                drop_bench_database(pg_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
