"""Webhook benchmark: signed provider deliveries over HTTP on loopback into one server process.

A real `filrouge serve` (one process, SQLite) receives a mix of Telegram, WhatsApp, Messenger,
X and Twilio SMS deliveries, each signed the provider's way, over 16 concurrent keep-alive
connections (two client processes). Prints accepted events/s and p50/p99 latency (client side:
request sent → 200, i.e. verified and stored durably), the server's CPU time per accepted
delivery (from /proc: robust to a busy machine), then how long the worker took to read every
delivery into conversations (end-to-end events/s), against a floor measured in the same run:
as many raw single-row inserts of the same bodies, one transaction each.

The worker reads deliveries inside the server (``--worker inside``, the default), in a
``filrouge worker`` beside it (``--worker separate``), or not at all (``--worker none``:
accepting only).

    make bench            # or: .venv/bin/python benchmarks/webhooks.py --events 2000 --worker none
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, text
from twilio.request_validator import RequestValidator

from filrouge.core.actions.channels import create_channel
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.schema import migrate

SECRET = "bench-secret-0123456789"
CONCURRENCY = 16
CLIENT_PROCESSES = 2
WORKER_MODES = ("inside", "separate", "none")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETTINGS = {
    "telegram": {"secret_token": SECRET, "bot_token": "1:bench"},
    "whatsapp": {"app_secret": SECRET, "verify_token": SECRET, "phone_number_id": "1001"},
    "messenger": {"app_secret": SECRET, "verify_token": SECRET, "page_id": "2002"},
    "x": {"consumer_secret": SECRET, "user_id": "3003"},
    "sms": {"auth_token": SECRET, "account_sid": "AC1", "phone_number": "+33100000000"},
}
floor_table = Table(
    "bench_webhook_floor",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("raw", LargeBinary, nullable=False),
)


@dataclass(frozen=True)
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]


def telegram(n: int, url: str) -> Delivery:
    body = {
        "update_id": n,
        "message": {
            "message_id": n,
            "date": 1_700_000_000 + n,
            "chat": {"id": 10_000 + n % 500, "type": "private"},
            "from": {"id": 10_000 + n % 500, "first_name": "Client", "username": f"c{n % 500}"},
            "text": f"Bonjour, où en est ma commande {n} ?",
        },
    }
    raw = json.dumps(body).encode()
    return Delivery(url, raw, {"X-Telegram-Bot-Api-Secret-Token": SECRET})


def whatsapp(n: int, url: str) -> Delivery:
    wa_id = f"3361{n % 500:07d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33100000000", "phone_number_id": "1001"},
        "contacts": [{"profile": {"name": f"Client {n % 500}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.bench{n}",
                "timestamp": str(1_700_000_000 + n),
                "type": "text",
                "text": {"body": f"Mon colis {n} n'est pas arrivé"},
            }
        ],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return _meta(url, envelope)


def messenger(n: int, url: str) -> Delivery:
    event = {
        "sender": {"id": f"psid{n % 500}"},
        "recipient": {"id": "2002"},
        "timestamp": (1_700_000_000 + n) * 1000,
        "message": {"mid": f"m_bench{n}", "text": f"Bonjour, facture {n} ?"},
    }
    envelope = {"object": "page", "entry": [{"id": "2002", "time": 1, "messaging": [event]}]}
    return _meta(url, envelope)


def x_dm(n: int, url: str) -> Delivery:
    sender = str(50_000 + n % 500)
    body = {
        "for_user_id": "3003",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": f"{900_000_000 + n}",
                "created_timestamp": str((1_700_000_000 + n) * 1000),
                "message_create": {
                    "target": {"recipient_id": "3003"},
                    "sender_id": sender,
                    "message_data": {"text": f"Toujours rien reçu ({n})"},
                },
            }
        ],
        "users": {
            sender: {"id": sender, "name": "Client", "screen_name": f"client{sender}"},
            "3003": {"id": "3003", "name": "Marque", "screen_name": "marque"},
        },
    }
    raw = json.dumps(body).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest())
    return Delivery(url, raw, {"x-twitter-webhooks-signature": "sha256=" + signature.decode()})


def sms(n: int, url: str) -> Delivery:
    params = {
        "MessageSid": f"SMbench{n:026d}",
        "AccountSid": "AC1",
        "From": f"+3361{n % 500:07d}",
        "To": "+33100000000",
        "Body": f"Rappelez-moi svp ({n})",
        "NumMedia": "0",
    }
    signature = RequestValidator(SECRET).compute_signature(url, params)
    return Delivery(
        url,
        urlencode(params).encode(),
        {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )


def _meta(url: str, envelope: dict[str, object]) -> Delivery:
    raw = json.dumps(envelope).encode()
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return Delivery(url, raw, {"X-Hub-Signature-256": f"sha256={digest}"})


BUILDERS: dict[str, Callable[[int, str], Delivery]] = {
    "telegram": telegram,
    "whatsapp": whatsapp,
    "messenger": messenger,
    "x": x_dm,
    "sms": sms,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument(
        "--worker",
        choices=WORKER_MODES,
        default="inside",
        help="who reads the deliveries: the server's own worker, a `filrouge worker` beside "
        "it, or nobody (accepting only)",
    )
    parser.add_argument("--connections", type=int, default=CONCURRENCY)
    args = parser.parse_args()
    # The server must read the channels' secrets as this process stored them.
    os.environ.setdefault("FILROUGE_SECRET_KEY", "bench-installation-key-0123456789abcdef")
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-hooks-") as tmp:
        return run(Path(tmp), Run(args.events, args.worker, args.connections))


@dataclass(frozen=True)
class Run:
    events: int
    worker: str  # one of WORKER_MODES
    connections: int


@dataclass(frozen=True)
class Timings:
    latencies: list[float]
    refused: int
    accepted_seconds: float
    stored_seconds: float | None  # None: nobody reads (accepting only)
    floor_seconds: float
    server_cpu_seconds: float  # the server process, while accepting
    server_cpu_total_seconds: float  # the server process, until every delivery is read
    client_cpu_seconds: float  # both client processes, while sending


def run(tmp: Path, bench: Run) -> int:
    events = bench.events
    url = f"sqlite:///{tmp}/bench.db"
    engine = create_db_engine(url)
    migrate(engine)
    port = free_port()
    channel_ids = make_channels(engine)
    base = f"http://127.0.0.1:{port}"
    deliveries = [
        BUILDERS[kind](n, f"{base}/hooks/{kind}/{channel_ids[kind]}")
        for n in range(events)
        for kind in [list(BUILDERS)[n % len(BUILDERS)]]
    ]
    floor_seconds = run_floor(engine, [d.body for d in deliveries])
    server = start_server(tmp, url, port, bench.worker == "inside")
    worker = start_worker(tmp, url) if bench.worker == "separate" else None
    try:
        cpu_before = cpu_seconds(server.pid)
        began = time.perf_counter()
        latencies, refused, client_cpu = send_all(deliveries, bench.connections)
        accepted_seconds = time.perf_counter() - began
        server_cpu = cpu_seconds(server.pid) - cpu_before
        stored_seconds = None if bench.worker == "none" else wait_until_read(engine, began)
        server_cpu_total = cpu_seconds(server.pid) - cpu_before
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
        messages = connection.execute(text("SELECT count(*) FROM messages")).scalar_one()
        pending = connection.execute(
            text("SELECT count(*) FROM webhook_deliveries WHERE outcome != 'processed'")
        ).scalar_one()
    engine.dispose()
    timings = Timings(
        latencies,
        refused,
        accepted_seconds,
        stored_seconds,
        floor_seconds,
        server_cpu,
        server_cpu_total,
        client_cpu,
    )
    report(bench, timings, messages)
    if bench.worker == "none":
        return 0 if refused == 0 and stored == events else 1
    return 0 if refused == 0 and messages == events and pending == 0 else 1


def report(bench: Run, timings: Timings, messages: int) -> None:
    events = bench.events
    quantiles = statistics.quantiles(timings.latencies, n=100)
    accepted_rate = events / timings.accepted_seconds
    stored = timings.stored_seconds
    figures = {
        "events": events,
        "providers": len(BUILDERS),
        "concurrency": bench.connections,
        "worker": bench.worker,
        "refused": timings.refused,
        "accepted_per_s": round(accepted_rate),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
        "server_cpu_ms_per_delivery": round(timings.server_cpu_seconds * 1000 / events, 3),
        "server_cpu_ms_until_read": round(timings.server_cpu_total_seconds * 1000 / events, 3),
        "client_cpu_ms_per_delivery": round(timings.client_cpu_seconds * 1000 / events, 3),
        "messages_stored": messages,
        "end_to_end_per_s": "-" if stored is None else round(events / stored),
        "floor_inserts_per_s": round(events / timings.floor_seconds),
        "ratio_to_floor": round(timings.accepted_seconds / timings.floor_seconds, 2),
        "goal_1000_per_s_p99_50ms": "met"
        if accepted_rate >= 1000 and quantiles[98] < 0.05
        else "missed",
    }
    print("BENCH webhooks_sqlite " + " ".join(f"{k}={v}" for k, v in figures.items()))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def send_all(deliveries: list[Delivery], connections: int) -> tuple[list[float], int, float]:
    """CLIENT_PROCESSES processes, each with its share of the connections (plain keep-alive
    HTTP/1.1: the client must not be what is measured)."""
    per_process = max(1, connections // CLIENT_PROCESSES)
    shares = [deliveries[n::CLIENT_PROCESSES] for n in range(CLIENT_PROCESSES)]
    with ProcessPoolExecutor(max_workers=CLIENT_PROCESSES) as pool:
        results = list(pool.map(_send_share, shares, [per_process] * CLIENT_PROCESSES))
    latencies = [t for share, _, _ in results for t in share]
    return latencies, sum(r for _, r, _ in results), sum(c for _, _, c in results)


def _send_share(deliveries: list[Delivery], connections: int) -> tuple[list[float], int, float]:
    cpu_before = time.process_time()
    shares = [deliveries[n::connections] for n in range(connections)]
    with ThreadPoolExecutor(max_workers=connections) as pool:
        results = list(pool.map(_send_on_one_connection, shares))
    latencies = [t for share, _ in results for t in share]
    return latencies, sum(r for _, r in results), time.process_time() - cpu_before


def _send_on_one_connection(deliveries: list[Delivery]) -> tuple[list[float], int]:
    latencies, refused = [], 0
    if not deliveries:
        return latencies, refused
    parts = urlsplit(deliveries[0].path)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    for delivery in deliveries:
        headers = {"Content-Type": "application/json", **delivery.headers}
        began = time.perf_counter()
        connection.request("POST", urlsplit(delivery.path).path, delivery.body, headers)
        response = connection.getresponse()
        text_body = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 200:
            refused += 1
            if refused <= 3:
                print(f"refused: {response.status} {text_body[:200]!r}")
    connection.close()
    return latencies, refused


def wait_until_read(engine: object, began: float, timeout: float = 600) -> float:
    """Seconds from the first request until the worker has read every delivery."""
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM webhook_deliveries WHERE outcome = 'pending'")
    while time.monotonic() < deadline:
        with engine.connect() as connection:  # type: ignore[attr-defined]
            if connection.execute(query).scalar_one() == 0:
                return time.perf_counter() - began
        time.sleep(0.05)
    return time.perf_counter() - began


def make_channels(engine: object) -> dict[str, int]:
    factory = make_session_factory(engine)  # type: ignore[arg-type]
    ids = {}
    with transaction(factory) as session:
        workspace = ensure_workspace(session, "Bench")
        for kind, settings in SETTINGS.items():
            channel, _ = create_channel(
                session, workspace.id, kind, kind, dict(settings), Actor.system()
            )
            ids[kind] = channel.id
    return ids


def run_floor(engine: object, bodies: list[bytes]) -> float:
    floor_table.create(engine)  # type: ignore[arg-type]
    began = time.perf_counter()
    for raw in bodies:
        with engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(insert(floor_table).values(raw=raw))
    return time.perf_counter() - began


def start_server(data_dir: Path, url: str, port: int, worker: bool) -> subprocess.Popen[bytes]:
    env = _environment(data_dir, url)
    command = [
        str(Path(sys.executable).with_name("filrouge")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--worker" if worker else "--no-worker",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            if server.poll() is not None:
                sys.exit("filrouge serve did not start")
            time.sleep(0.1)
    server.kill()
    sys.exit("filrouge serve did not answer within 30 s")


def start_worker(data_dir: Path, url: str) -> subprocess.Popen[bytes]:
    """``filrouge worker``: reads the stored deliveries in its own process."""
    command = [str(Path(sys.executable).with_name("filrouge")), "worker"]
    return subprocess.Popen(command, env=_environment(data_dir, url), stdout=subprocess.DEVNULL)


def _environment(data_dir: Path, url: str) -> dict[str, str]:
    env = {**os.environ, "FILROUGE_DATABASE_URL": url, "FILROUGE_DATA_DIR": str(data_dir)}
    env["FILROUGE_LOG_LEVEL"] = "WARNING"
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
