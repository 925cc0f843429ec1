"""Access logs without secrets: inbound tokens in query strings and invitation links are masked
before uvicorn writes a request line."""

from __future__ import annotations

import logging
import re

_SECRETS = (
    (re.compile(r"([?&](?:token|access_token)=)[^&\s]+"), r"\1********"),
    (re.compile(r"(/invite/)[^/?\s]+"), r"\1********"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction() -> None:
    """Mask secrets in uvicorn's access log (once, however many apps are created)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
