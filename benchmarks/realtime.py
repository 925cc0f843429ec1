"""Realtime benchmark: how long a new message takes to reach an open page.

Starts real ``filrouge serve`` processes on free ports of 127.0.0.1, on a fresh SQLite database
in a temporary folder, signs a browser in and keeps its event stream (``GET /events``) open, then
posts messages one at a time to ``POST /api/v1/inbound`` and times each from just before the
POST to the moment its ``message.received`` event arrives on the stream. Two setups:

- ``single-process``: one server, the in-process broker;
- ``redis-fanout``: two servers sharing ``FILROUGE_REDIS_URL``; the message is posted to the
  first and heard on the second, through Redis pub/sub. Redis must answer on --redis-url.

Prints ``BENCH realtime <setup> p50=… ms p95=… ms max=… ms (n=…)`` lines, and whether the
goal (a new message appears within one second: p95 under 1,000 ms) is met. Figures in
docs/PERFORMANCE.md.

    .venv/bin/python benchmarks/realtime.py [--messages 200] [--redis-url redis://…]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

EMAIL = "bench@example.fr"
PASSWORD = "correct horse battery"
WARMUP = 5  # messages sent, and waited for, before timing: lazy imports, first queries
CUSTOMERS = 50  # messages come from this many customers: new conversations, then threads
EVENT_TIMEOUT = 10.0  # seconds; a message whose event has not come by then counts as lost
GOAL_MS = 1000.0


class ServerFailed(Exception):
    """A server did not start, or an installation step failed."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    if not redis_answers(args.redis_url):
        print(
            f"error: the redis-fanout setup needs Redis at {args.redis_url}, and nothing answers "
            "there. Start it (redis-server --port 6379) or point --redis-url at one.",
            file=sys.stderr,
        )
        return 2
    setups = [("single-process", 1, ""), ("redis-fanout", 2, args.redis_url)]
    try:
        for name, servers, redis_url in setups:
            with tempfile.TemporaryDirectory(prefix="filrouge-realtime-") as tmp:
                bench(name, Path(tmp), servers, redis_url, args.messages)
    except ServerFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


def bench(name: str, folder: Path, servers: int, redis_url: str, count: int) -> None:
    env = environment(folder, redis_url)
    token = install(env)
    with running(env, folder, servers) as bases:
        write, listen_on = bases[0], bases[-1]
        with (
            Listener(listen_on) as listener,
            httpx.Client(
                base_url=write, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api,
        ):
            response = api.post("/api/v1/channels", json={"kind": "api", "name": "Bench"})
            response.raise_for_status()
            channel_id = response.json()["id"]
            for n in range(WARMUP):
                post_and_wait(api, listener, channel_id, f"warmup-{n}", n)
            latencies, posts, lost = [], [], 0
            for n in range(count):
                timing = post_and_wait(api, listener, channel_id, f"bench-{n}", n)
                if timing is None:
                    lost += 1
                    continue
                latencies.append(timing[0])
                posts.append(timing[1])
            report(name, count, latencies, posts, lost, listener.foreign)


def post_and_wait(
    api: httpx.Client, listener: Listener, channel_id: int, provider_id: str, n: int
) -> tuple[float, float] | None:
    """(seconds until the event arrived, seconds the POST took), both from just before the POST;
    None when the event did not come within EVENT_TIMEOUT."""
    body = {
        "channel_id": channel_id,
        "provider_message_id": provider_id,
        "sender": {"kind": "email", "value": f"client{n % CUSTOMERS}@example.fr"},
        "text": f"Bonjour, où en est ma commande ML-2026-{n:06d} ?",
    }
    began = time.perf_counter()
    response = api.post("/api/v1/inbound", json=body)
    answered = time.perf_counter()
    if response.status_code != 201:
        raise ServerFailed(f"POST /api/v1/inbound answered {response.status_code}: {response.text}")
    arrived = listener.wait_for(response.json(), began + EVENT_TIMEOUT)
    if arrived is None:
        return None
    return arrived - began, answered - began


def report(
    name: str,
    count: int,
    latencies: list[float],
    posts: list[float],
    lost: int,
    foreign: int,
) -> None:
    if len(latencies) < 2:
        print(f"BENCH realtime {name} lost={lost} (n={count}) goal_p95_under_1s=missed", flush=True)
        return
    ms = sorted(seconds * 1000 for seconds in latencies)
    q = statistics.quantiles(ms, n=100)
    post_q = statistics.quantiles([seconds * 1000 for seconds in posts], n=100)
    met = lost == 0 and q[94] < GOAL_MS
    print(
        f"BENCH realtime {name} p50={q[49]:.1f} ms p95={q[94]:.1f} ms max={ms[-1]:.1f} ms "
        f"(n={count}) post_p50={post_q[49]:.1f} ms post_p95={post_q[94]:.1f} ms lost={lost} "
        f"foreign_events={foreign} goal_p95_under_1s={'met' if met else 'missed'}",
        flush=True,
    )


class Listener:
    """A signed-in browser's event stream, read in a thread; each event is kept with the moment
    it arrived."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._arrivals: queue.Queue[tuple[float, dict[str, Any] | None]] = queue.Queue()
        self._unclaimed: dict[tuple[Any, ...], float] = {}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._client = httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=60))
        self._thread = threading.Thread(target=self._read, name="sse-reader", daemon=True)

    @property
    def foreign(self) -> int:
        """``message.received`` events about no message this run waited for: none expected,
        unless another installation publishes on the same Redis."""
        return len(self._unclaimed)

    def __enter__(self) -> Listener:
        try:
            signed_in = self._client.post("/login", data={"email": EMAIL, "password": PASSWORD})
            if signed_in.status_code != 303 or "/login" in signed_in.headers.get("location", ""):
                raise ServerFailed(f"sign-in refused on {self.base}: {signed_in.status_code}")
            self._thread.start()
            if not self._ready.wait(10):
                raise ServerFailed(f"the event stream of {self.base} did not open: {self._failure}")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._client.close()  # ends the stream, so the server need not wait for it to stop
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/events") as stream:
                kind = stream.headers.get("content-type", "")
                if stream.status_code != 200 or not kind.startswith("text/event-stream"):
                    raise ServerFailed(f"GET /events answered {stream.status_code} {kind}")
                for line in stream.iter_lines():
                    now = time.perf_counter()
                    self._ready.set()
                    if line.startswith("data: "):
                        self._arrivals.put((now, json.loads(line[6:])))
            raise ServerFailed("the server ended the event stream")
        except Exception as failure:  # also when the client closes it, at the end
            self._failure = failure
            self._arrivals.put((time.perf_counter(), None))

    def wait_for(self, accepted: dict[str, Any], deadline: float) -> float | None:
        """When the ``message.received`` event of the message ``accepted`` (the answer to its
        POST) arrived; None if it has not by ``deadline``."""
        key = _key(accepted)
        if key in self._unclaimed:
            return self._unclaimed.pop(key)
        while (left := deadline - time.perf_counter()) > 0:
            try:
                arrived, event = self._arrivals.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                raise ServerFailed(f"the event stream of {self.base} broke: {self._failure!r}")
            if event.get("type") != "message.received":
                continue
            if _key(event) == key:
                return arrived
            self._unclaimed[_key(event)] = arrived
        return None


def _key(message: dict[str, Any]) -> tuple[Any, ...]:
    """Ids alone can collide between installations; all three together hardly do."""
    return tuple(message.get(name) for name in ("message_id", "conversation_id", "customer_id"))


# Running Filrouge as a user does (the same approach as tests/live_server.py, which benchmarks
# do not import): the CLI, and servers on free ports, stopped whatever happens.


def environment(folder: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FILROUGE_DATABASE_URL": f"sqlite:///{folder}/filrouge.db",
        "FILROUGE_DATA_DIR": str(folder / "var"),
        "FILROUGE_LOG_LEVEL": "WARNING",
        "FILROUGE_REDIS_URL": redis_url,
    }


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "filrouge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ServerFailed(f"filrouge {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def install(env: dict[str, str]) -> str:
    """Migrate, create the admin who signs in, and return an API token of theirs."""
    cli(env, "migrate")
    cli(env, "user", "create", "--email", EMAIL, "--password", PASSWORD, "--role", "admin")
    return cli(env, "token", "create", "--email", EMAIL).strip().splitlines()[-1]


@contextmanager
def running(env: dict[str, str], folder: Path, count: int) -> Iterator[list[str]]:
    """Start ``count`` servers; yield their base URLs once each answers /healthz."""
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    bases = []
    failed = True
    try:
        for number in range(count):
            port = free_port()
            log = folder / f"serve-{number}.log"
            with log.open("wb") as output:
                command = ["serve", "--host", "127.0.0.1", "--port", str(port)]
                process = subprocess.Popen(
                    [sys.executable, "-m", "filrouge.cli", *command],
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            processes.append((process, log))
            bases.append(f"http://127.0.0.1:{port}")
        for (process, log), base in zip(processes, bases, strict=True):
            wait_healthy(process, log, base)
        yield bases
        failed = False
    finally:
        for process, _ in processes:
            process.terminate()
        for process, log in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if failed or process.returncode not in (0, -15):
                print(f"--- {log.name} (exit {process.returncode})\n{tail(log)}", file=sys.stderr)


def wait_healthy(process: subprocess.Popen[bytes], log: Path, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"{base} exited with {process.returncode} (log above)")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise ServerFailed(f"{base} did not answer /healthz within 30 s (log above)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_answers(url: str) -> bool:
    """Whether a Redis server answers PING at ``url`` (redis://host:port/db)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


if __name__ == "__main__":
    sys.exit(main())
