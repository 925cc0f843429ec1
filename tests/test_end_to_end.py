"""The product as a user runs it: migrate, create a user and a token, serve, receive, reply.

The server and the worker run as real processes; the reply goes out through the task queue
(the embedded SQLite queue, and Redis when FILROUGE_TEST_REDIS_URL is set, as in CI) to a fake
provider on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_provider import fake_provider

REDIS_URL = os.environ.get("FILROUGE_TEST_REDIS_URL")
QUEUES = ["sqlite", "redis"] if REDIS_URL else ["sqlite"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "filrouge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "filrouge.cli", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until(check: Any, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture(params=QUEUES)
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    queue = "" if request.param == "sqlite" else f"{REDIS_URL}"
    if queue:
        import redis

        redis.Redis.from_url(queue).flushdb()
    env = {
        **os.environ,
        "FILROUGE_DATABASE_URL": f"sqlite:///{tmp_path}/filrouge.db",
        "FILROUGE_DATA_DIR": str(tmp_path / "var"),
        "FILROUGE_QUEUE_URL": queue,
        "FILROUGE_HTTP_ALLOW_PRIVATE": "1",
        "FILROUGE_LOG_LEVEL": "WARNING",
    }
    cli(env, "migrate")
    cli(
        env,
        "user",
        "create",
        "--email",
        "admin@example.fr",
        "--password",
        "long enough pw",
        "--role",
        "admin",
    )
    token = cli(env, "token", "create", "--email", "admin@example.fr").strip().splitlines()[-1]
    port = free_port()
    processes = [
        start(
            env,
            tmp_path / "serve.log",
            "serve",
            "--port",
            str(port),
            "--no-worker" if queue else "--worker",
        )
    ]
    if queue:
        processes.append(start(env, tmp_path / "worker.log", "worker"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(base))
        yield base, token
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_it_receives_a_message_and_delivers_the_reply_through_the_queue(running):
    base, token = running
    auth = {"Authorization": f"Bearer {token}"}
    with fake_provider() as provider, httpx.Client(base_url=base, headers=auth) as api:
        channel = api.post(
            "/api/v1/channels",
            json={"kind": "api", "name": "Boutique", "settings": {"outbound_url": provider.url}},
        )
        assert channel.status_code == 201, channel.text
        received = api.post(
            "/api/v1/inbound",
            json={
                "channel_id": channel.json()["id"],
                "provider_message_id": "order-42",
                "sender": {"kind": "email", "value": "jeanne@example.fr", "name": "Jeanne"},
                "text": "Où en est ma commande ?",
            },
        ).json()
        conversation = f"/api/v1/conversations/{received['conversation_id']}"
        reply = api.post(f"{conversation}/replies", json={"text": "Elle part demain."})
        assert reply.status_code == 201, reply.text

        def delivered() -> Any:
            last = api.get(conversation).json()["messages"][-1]
            return last if last["status"] != "queued" else None

        last = wait_until(delivered)
        assert (last["status"], last["provider_message_id"]) == ("sent", "prov-1")
        assert provider.received[0].json()["text"].startswith("Elle part demain.")
        assert api.get("/api/v1/openapi.json").json()["info"]["title"] == "Filrouge"
