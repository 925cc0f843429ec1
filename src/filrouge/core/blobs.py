"""Attachment bytes, stored once per content (SHA-256) on the local disk.

A file lives at ``<root>/<first two hex digits>/<digest>``: 256 folders, each made once, as git
lays out its objects. Stores written before 2026-12 used two levels (``<root>/ab/cd/<digest>``:
65,536 folders, so nearly every new file of a young store paid one or two ``mkdir``, half of its
cost); their files stay where they are, are still read, and still count as stored (same bytes
again: nothing written).

A file is written under a temporary name beside its place and renamed into it, so a reader sees
the whole file or none, whichever process writes the same bytes at the same time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
from pathlib import Path

_DIGEST = re.compile(r"[0-9a-f]{64}")
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)  # the hot path joins strings: a Path costs µs each

    def put(self, content: bytes) -> str:
        """Store ``content`` and return its SHA-256; writing the same bytes twice is a no-op."""
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not (os.path.exists(path) or os.path.exists(self._legacy_path(digest))):
            _write_atomically(path, content)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return _read(self._path(_checked(digest)))
        except FileNotFoundError:
            return _read(self._legacy_path(digest))

    def delete(self, digest: str) -> bool:
        """Remove the file of ``digest``, wherever the layout of its day put it; False when
        there was none."""
        removed = False
        for path in (self.path_for(digest), self.legacy_path_for(digest)):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed = True
        return removed

    def path_for(self, digest: str) -> Path:
        """Where the file of ``digest`` is written."""
        return Path(self._path(_checked(digest)))

    def legacy_path_for(self, digest: str) -> Path:
        """Where stores written before 2026-12 kept it (two levels of folders)."""
        return Path(self._legacy_path(_checked(digest)))

    def _path(self, digest: str) -> str:
        return f"{self._root}/{digest[:2]}/{digest}"

    def _legacy_path(self, digest: str) -> str:
        return f"{self._root}/{digest[:2]}/{digest[2:4]}/{digest}"


def _checked(digest: str) -> str:
    if _DIGEST.fullmatch(digest) is None:
        raise ValueError("not a SHA-256 digest")
    return digest


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _write_atomically(path: str, content: bytes) -> None:
    """Six system calls for a file (open, write, close, rename and the two ``stat`` of ``put``),
    plus a ``mkdir`` for the first file of each folder. The temporary name need not be secret:
    ``O_EXCL`` refuses any file, or link, already there."""
    folder, name = os.path.split(path)
    temporary = f"{folder}/.{name}.{random.getrandbits(64):016x}.tmp"
    try:
        fd = os.open(temporary, _NEW_FILE, 0o600)
    except FileNotFoundError:  # the first file of its folder: make the folder, once
        os.makedirs(folder, exist_ok=True)
        fd = os.open(temporary, _NEW_FILE, 0o600)
    try:
        _write_all(fd, content)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _write_all(fd: int, content: bytes) -> None:
    """Straight to the descriptor: a Python file object would add three system calls."""
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
