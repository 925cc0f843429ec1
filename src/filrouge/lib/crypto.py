"""Secrets at rest: channel credentials (tokens, passwords, app secrets) are stored encrypted.

Fernet (AES-128-CBC with an HMAC-SHA256 tag, from ``cryptography``) under a key derived from the
installation's secret key (``lib/keys.py``): a copy of the database alone does not give away a
page token or an SMTP password. A value that no longer decrypts (the secret key changed) reads
as empty, so the channel asks for its credentials again instead of failing obscurely.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)
PREFIX = "enc:v1:"
SECRET_SUFFIXES = ("secret", "token", "password", "key")


def is_secret_setting(key: str) -> bool:
    return key.lower().endswith(SECRET_SUFFIXES)


def encrypt_secrets(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (settings, at any depth) with each secret encrypted."""
    if isinstance(value, dict):
        return {k: encrypt_secrets(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [encrypt_secrets(item, key) for item in value]
    if isinstance(value, str) and value and is_secret_setting(key) and not value.startswith(PREFIX):
        return PREFIX + _fernet().encrypt(value.encode()).decode()
    return value


def decrypt_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: decrypt_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decrypt_secrets(item) for item in value]
    if isinstance(value, str) and value.startswith(PREFIX):
        return _decrypt(value.removeprefix(PREFIX))
    return value


def _decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        log.error("a stored secret does not decrypt with this installation's key")
        return ""


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    """Made at the first secret stored or read, from the environment as it is then."""
    from filrouge.lib.keys import installation_key
    from filrouge.settings import Settings

    digest = hashlib.sha256(b"filrouge-settings-at-rest|" + installation_key(Settings()))
    return Fernet(base64.urlsafe_b64encode(digest.digest()))
