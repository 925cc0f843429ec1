"""The installation's secret key, for signing what visitors carry (form timestamps...).

``FILROUGE_SECRET_KEY`` if set (several hosts must share it); else a random key made on first
use and kept in the data folder (``secret.key``, readable by this user only). Never a default.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from filrouge.settings import Settings

_KEYS: dict[Path, bytes] = {}


def installation_key(settings: Settings) -> bytes:
    configured = os.environ.get("FILROUGE_SECRET_KEY", "")
    if configured:
        return configured.encode()
    path = settings.data_dir / "secret.key"
    if path not in _KEYS:
        _KEYS[path] = _read_or_make(path)
    return _KEYS[path]


def sign(settings: Settings, value: str) -> str:
    digest = hmac.new(installation_key(settings), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{digest[:32]}"


def unsign(settings: Settings, signed: str) -> str | None:
    """The value if ``signed`` came from :func:`sign` with this installation's key, else None."""
    value = signed.rpartition(".")[0]
    return value if value and hmac.compare_digest(sign(settings, value), signed) else None


def _read_or_make(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
