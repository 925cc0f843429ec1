"""Running Filrouge as a user does, for the tests that need real processes: the CLI, servers
and workers on free ports of 127.0.0.1, stopped (and their logs shown) at the end."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "correct horse battery"


_SHARED: list[Path] = []  # the folder of this test run's model, shared by every worker


def share_triage_model_in(folder: Path) -> None:
    """Where :func:`trained_triage_dir` keeps the model (conftest: one folder per test run)."""
    _SHARED[:] = [folder]


@functools.cache
def trained_triage_dir() -> Path:
    """A data directory holding the triage model, trained once per test run: the first worker
    that needs it trains it (seconds), the others wait for it, then read it (milliseconds)."""
    from filrouge.triage.store import load_model

    if not _SHARED:  # outside pytest's session (conftest sets it): this process only
        _SHARED.append(Path(tempfile.mkdtemp(prefix="filrouge-triage-")))
    folder = _SHARED[0]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".training").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        load_model(folder)
    return folder


def seed_triage_model(data_dir: Path) -> None:
    """The triage model, trained once per test run and linked into each installation: a
    server trains it when it has none (seconds), and its first message would wait for it.
    A retrained model replaces the link (store.py writes a new file), never the shared one."""
    from filrouge.triage.store import triage_dir

    target = triage_dir(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    for model in triage_dir(trained_triage_dir()).glob("model-*.pickle"):
        if not (target / model.name).exists():
            _link_or_copy(model, target / model.name)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy(source, target)


def environment(folder: Path, **settings: str) -> dict[str, str]:
    """The environment of an installation in ``folder`` (SQLite), plus ``FILROUGE_*``."""
    seed_triage_model(folder / "var")
    return {
        **os.environ,
        "FILROUGE_DATABASE_URL": f"sqlite:///{folder}/filrouge.db",
        "FILROUGE_DATA_DIR": str(folder / "var"),
        "FILROUGE_LOG_LEVEL": "WARNING",
        **{f"FILROUGE_{key.upper()}": value for key, value in settings.items()},
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
    assert done.returncode == 0, done.stderr
    return done.stdout


def install(env: dict[str, str], *users: tuple[str, ...]) -> str:
    """Migrate, create the admin and ``users`` (CLI arguments after ``user create``), and
    return an API token of the admin."""
    cli(env, "migrate")
    admin = ("--email", "admin@example.fr", "--role", "admin", "--name", "Camille Admin")
    for user in (admin, *users):
        cli(env, "user", "create", "--password", PASSWORD, *user)
    return cli(env, "token", "create", "--email", "admin@example.fr").strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running(env: dict[str, str], logs: Path, *commands: list[str]) -> Iterator[list[str]]:
    """Start each ``filrouge`` command; yield the base URL of each ``serve`` once it answers."""
    processes, bases = [], []
    for number, command in enumerate(commands):
        if command[0] == "serve":
            port = free_port()
            command = [*command, "--port", str(port)]
            bases.append(f"http://127.0.0.1:{port}")
        with (logs / f"{number}-{command[0]}.log").open("wb") as output:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "filrouge.cli", *command],
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        for base in bases:
            wait_until(lambda base=base: healthy(base))
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        for log in sorted(logs.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
