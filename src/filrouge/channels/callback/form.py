"""The public form's defences, instead of a CSRF token (the visitor has no session).

Each page carries a stamp, ``<unix time>.<HMAC-SHA256>`` of the channel and the time, signed
with the installation's key (``lib/keys.py``, as the web form's). A post is accepted only with
a stamp of this channel, at least ``min_fill_seconds`` old (a person takes time to type a
number) and at most ``STAMP_LIFETIME`` old, and with the hidden honeypot field left empty.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from filrouge.lib.secrets import same_secret

HONEYPOT_FIELD = "website"
STAMP_LIFETIME = timedelta(hours=2)


def make_stamp(channel_id: int, key: bytes, at: datetime) -> str:
    seconds = str(int(at.timestamp()))
    return f"{seconds}.{_signature(channel_id, key, seconds)}"


def stamp_is_good(
    stamp: str, channel_id: int, key: bytes, now: datetime, min_age: timedelta
) -> bool:
    seconds, _, signature = stamp.partition(".")
    if not seconds.isdigit() or not same_secret(signature, _signature(channel_id, key, seconds)):
        return False
    age = now - datetime.fromtimestamp(int(seconds), now.tzinfo)
    return min_age <= age <= STAMP_LIFETIME


def _signature(channel_id: int, key: bytes, seconds: str) -> str:
    message = f"callback-form:{channel_id}:{seconds}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
