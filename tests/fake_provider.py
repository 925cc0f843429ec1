"""A local fake provider: an HTTP server on 127.0.0.1 that records what it receives and answers
as told — JSON or raw bytes, with headers such as ``Retry-After`` — per path when needed; and,
like a real provider, may do something of its own before it answers (``before_answer``: post
a webhook while our call waits, say)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (status, JSON body) or (status, body, headers); a body of bytes is sent as it is.
Answer = tuple[Any, ...]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


@dataclass
class FakeProvider:
    url: str
    received: list[Recorded] = field(default_factory=list)
    # Answers to give, in order; the last one repeats.
    answers: list[Answer] = field(default_factory=lambda: [(200, {"id": "prov-1"})])
    # Answers for the paths ending with a key, in order, the last one repeating; they win
    # over ``answers``.
    routes: dict[str, list[Answer]] = field(default_factory=dict)
    # Called with each request before it is answered (in the server's thread).
    before_answer: Callable[[Recorded], None] | None = None

    @property
    def base(self) -> str:
        return self.url.removesuffix("/hook")

    def calls(self, suffix: str) -> list[Recorded]:
        return [r for r in self.received if r.route.endswith(suffix)]

    def answer_for(self, path: str) -> Answer:
        queue = next((q for k, q in self.routes.items() if urlsplit(path).path.endswith(k)), None)
        queue = self.answers if queue is None else queue
        return queue.pop(0) if len(queue) > 1 else queue[0]


@contextmanager
def fake_provider() -> Iterator[FakeProvider]:
    state = FakeProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recorded = Recorded(self.command, self.path, dict(self.headers), body)
            state.received.append(recorded)
            if state.before_answer is not None:
                state.before_answer(recorded)
            status, payload, *rest = state.answer_for(self.path)
            headers: dict[str, str] = rest[0] if rest else {}
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            kind = "application/octet-stream" if isinstance(payload, bytes) else "application/json"
            self.send_header("Content-Type", kind)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_POST = do_GET = do_DELETE = _answer  # noqa: N815 - the handler's protocol

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
