"""Settings, read once from the environment (prefix ``FILROUGE_``), typed, failing loudly."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """Read ``7d``, ``12h``, ``90m``, ``3600`` (seconds) or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 7d, 12h, 90m or seconds)")
    amount, unit = match.groups()
    return timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FILROUGE_", extra="ignore")

    database_url: str = "sqlite:///./var/filrouge.db"
    data_dir: Path = Path("./var")
    thread_window: timedelta = timedelta(days=7)
    default_region: str = "FR"
    default_locale: str = "fr"
    max_text_bytes: int = 64 * 1024
    max_html_bytes: int = 1024 * 1024
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_reply_attachments: int = 10  # files an agent may attach to one reply
    max_request_bytes: int = 40 * 1024 * 1024
    # One provider webhook delivery (JSON or a form; files come by URL, not in the body).
    max_webhook_bytes: int = 2 * 1024 * 1024
    log_level: str = "INFO"
    workspace_name: str = "Filrouge"
    # Task queue: "" (SQLite file in data_dir, embedded), "redis://host:port/db" at scale,
    # or "memory://" (tasks run at once, in process: tests and one-off scripts).
    queue_url: str = ""
    # Several server processes: realtime events fan out through Redis pub/sub.
    redis_url: str = ""
    languages: list[str] = Field(default_factory=lambda: ["fr", "en"])
    session_lifetime: timedelta = timedelta(hours=12)
    session_idle: timedelta = timedelta(hours=2)
    # An agent "online" with no activity for this long counts as away for routing.
    presence_idle: timedelta = timedelta(minutes=15)
    # Secure cookies need HTTPS; None: secure whenever the request came over https.
    cookie_secure: bool | None = None
    login_attempts: int = 5  # failures allowed per address and per IP in login_window
    login_window: timedelta = timedelta(minutes=15)
    # Signs live-chat visitor tokens. There is no default: empty means a random key made
    # once and kept in data_dir/secret_key (shared by the processes of one host); set it, or
    # FILROUGE_SECRET_KEY_FILE, when processes run on several hosts.
    secret_key: str = ""
    secret_key_file: Path | None = None
    # Where customers reach this installation (links sent to them: satisfaction surveys).
    public_url: str = "http://127.0.0.1:8000"
    # /metrics answers requests from this machine; with a token, only requests bearing it.
    metrics_token: str = ""

    @field_validator(
        "thread_window",
        "session_lifetime",
        "session_idle",
        "login_window",
        "presence_idle",
        mode="before",
    )
    @classmethod
    def _read_window(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("default_region")
    @classmethod
    def _upper_region(cls, value: str) -> str:
        return value.upper()

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("FILROUGE_SECRET_KEY must have at least 32 characters")
        return value

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
