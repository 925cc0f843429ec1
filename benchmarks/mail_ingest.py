"""Email ingestion benchmark: real-world mails through the SMTP receiving server into the store.

The mails are the shared fixtures (../shared/data/email), repeated with new Message-IDs until
there are 5,000, sent to a real `filrouge smtpd` process on 127.0.0.1 (one process: one core for
the server; the senders run here), each answered 250 only once stored: once over one
connection, one mail after the other, and once over four connections at a time, as a mail
server delivers (the server then stores what arrives together in one transaction). Prints
mails/s (on the wall clock of the whole run) and the p50/p99 time per mail (client side: from
MAIL FROM to the 250), against a floor measured in the same run: as many raw single-row inserts
of the same bytes, one transaction each. The server process's own CPU time while the mails
are sent (/proc/<pid>/stat) is printed too, per mail and as mails per CPU second: what one core
does for the server, whatever else the machine runs at the same time.

    make bench            # or: .venv/bin/python benchmarks/mail_ingest.py --mails 1000
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, text

from filrouge.core.actions.channels import create_channel
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.db import create_db_engine, make_session_factory, start_checkpointer, transaction
from filrouge.schema import migrate

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "email"
ADDRESS = "support@bench.test"
MESSAGE_ID = re.compile(rb"^Message-ID:.*(?:\r?\n[ \t].*)*\r?\n", re.I | re.M)
floor_table = Table(
    "bench_mail_floor",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("raw", LargeBinary, nullable=False),
)


def fixture_mails() -> list[bytes]:
    if not SHARED.exists():
        sys.exit(f"{SHARED} is absent: this benchmark replays the shared real-world mails")
    files = sorted(
        p
        for p in SHARED.rglob("*")
        if p.is_file() and not p.relative_to(SHARED).parts[0].startswith("crisp-")
    )
    return [raw for raw in (p.read_bytes() for p in files) if raw.strip()]


def with_new_id(raw: bytes, number: int) -> bytes:
    header = f"Message-ID: <bench.{number}@bench.test>\r\n".encode()
    return header + MESSAGE_ID.sub(b"", raw, count=1)


def start_server(data_dir: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    """``filrouge smtpd`` in its own process, answering on ``port``."""
    env = {**os.environ, "FILROUGE_DATABASE_URL": url, "FILROUGE_DATA_DIR": str(data_dir)}
    command = [str(Path(sys.executable).with_name("filrouge")), "smtpd", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None:
                sys.exit("filrouge smtpd did not start")
            time.sleep(0.1)
    server.kill()
    sys.exit("filrouge smtpd did not answer within 30 s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=5_000)
    parser.add_argument("--connections", type=int, default=4, help="for the parallel run")
    args = parser.parse_args()
    sources = fixture_mails()
    failed = 0
    for connections in (1, args.connections):
        offset = connections * args.mails  # new Message-IDs for each run
        mails = [with_new_id(sources[i % len(sources)], offset + i) for i in range(args.mails)]
        failed += run(mails, connections, len(sources))
    return 1 if failed else 0


def run(mails: list[bytes], connections: int, distinct: int) -> int:
    """One run on a fresh database; print its BENCH line; 1 if a mail was not stored."""
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-email-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        engine = create_db_engine(url)
        migrate(engine)
        checkpointer = start_checkpointer(engine)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            workspace = ensure_workspace(session, "Bench")
            create_channel(
                session, workspace.id, "email", "Support", {"address": ADDRESS}, Actor.system()
            )
        floor_seconds = run_floor(engine, mails)
        port = free_port()
        server = start_server(Path(tmp), url, port)
        try:
            cpu_before = process_cpu_seconds(server.pid)
            began = time.perf_counter()
            latencies, refused = send_in_parallel(port, mails, connections)
            elapsed = time.perf_counter() - began
            user, system = process_cpu_seconds(server.pid)
            user, system = user - cpu_before[0], system - cpu_before[1]
        finally:
            server.terminate()
            server.wait(timeout=10)
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM messages")).scalar()
        if checkpointer is not None:
            checkpointer.stop()
        engine.dispose()
    server_cpu = user + system
    quantiles = statistics.quantiles(latencies, n=100)
    figures = {
        "mails": len(mails),
        "connections": connections,
        "distinct_sources": distinct,
        "megabytes": round(sum(map(len, mails)) / 1e6, 1),
        "stored": stored,
        "refused": refused,
        "mails_per_s": round(len(mails) / elapsed),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
        "server_cpu_ms_per_mail": round(server_cpu * 1000 / len(mails), 2),
        "mails_per_server_cpu_second": round(len(mails) / server_cpu) if server_cpu else 0,
        "server_kernel_cpu_ms_per_mail": round(system * 1000 / len(mails), 2),
        "server_cpu_share": round(server_cpu / elapsed, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "floor_inserts_per_s": round(len(mails) / floor_seconds),
        "ratio_to_floor": round(elapsed / floor_seconds, 2),
        "goal_200_per_s": "met" if len(mails) / elapsed >= 200 else "missed",
    }
    print(
        f"BENCH email_smtp_sqlite_c{connections} "
        + " ".join(f"{k}={v}" for k, v in figures.items())
    )
    return 0 if stored == len(mails) - refused else 1


def send_in_parallel(port: int, mails: list[bytes], connections: int) -> tuple[list[float], int]:
    """Each connection sends its share one mail after the other, as a mail server does."""
    shares = [mails[n::connections] for n in range(connections)]
    with ThreadPoolExecutor(max_workers=connections) as pool:
        results = list(pool.map(lambda share: send_all(port, share), shares))
    return [t for latencies, _ in results for t in latencies], sum(r for _, r in results)


def process_cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system (kernel) CPU time a process has used so far (Linux: /proc/<pid>/stat),
    which says what one core does for the server whatever else the machine runs."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def run_floor(engine: object, mails: list[bytes]) -> float:
    floor_table.create(engine)  # type: ignore[arg-type]
    began = time.perf_counter()
    for raw in mails:
        with engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(insert(floor_table).values(raw=raw))
    return time.perf_counter() - began


def send_all(port: int, mails: list[bytes]) -> tuple[list[float], int]:
    latencies, refused = [], 0
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        for raw in mails:
            began = time.perf_counter()
            try:
                client.sendmail("sender@example.test", [ADDRESS], raw)
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
                refused += 1  # too large for the limits: refused with a reason, counted
            latencies.append(time.perf_counter() - began)
    return latencies, refused


if __name__ == "__main__":
    sys.exit(main())
