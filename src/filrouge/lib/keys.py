"""The installation's secret key: it signs what visitors carry (chat visitor tokens, the
render time of public forms). Never a default:

``FILROUGE_SECRET_KEY`` (at least 32 characters), else the file ``FILROUGE_SECRET_KEY_FILE``
names, else a random key made once in the data folder (``secret_key``, readable by this user
only) and read back on every start. Set one of the first two when servers run on several hosts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from filrouge.settings import Settings


def installation_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.secret_key_file is not None:
        return _read_key(settings.secret_key_file)
    return _kept_key(settings.data_dir / "secret_key")


def sign(settings: Settings, value: str) -> str:
    digest = hmac.new(installation_key(settings), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{digest[:32]}"


def unsign(settings: Settings, signed: str) -> str | None:
    """The value if ``signed`` came from :func:`sign` with this installation's key, else None."""
    value = signed.rpartition(".")[0]
    return value if value and hmac.compare_digest(sign(settings, value), signed) else None


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise ValueError(f"the secret key in {path} must have at least 32 characters")
    return key


def _kept_key(path: Path) -> bytes:
    """Made once (only this user may read it); every later start reads the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return _read_key(path)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return _read_key(path)
