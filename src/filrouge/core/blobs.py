"""Attachment bytes, stored once per content (SHA-256) on the local disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes) -> str:
        """Store ``content`` and return its SHA-256; writing the same bytes twice is a no-op."""
        digest = hashlib.sha256(content).hexdigest()
        path = self.path_for(digest)
        if not path.exists():
            try:
                fd, tmp = tempfile.mkstemp(dir=path.parent)
            except FileNotFoundError:  # the first file of its folder: make the folder once
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, path)
        return digest

    def get(self, digest: str) -> bytes:
        return self.path_for(digest).read_bytes()

    def delete(self, digest: str) -> bool:
        """Remove the file of ``digest``; False when there was none."""
        try:
            self.path_for(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("not a SHA-256 digest")
        return self.root / digest[:2] / digest[2:4] / digest
