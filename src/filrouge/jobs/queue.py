"""The Huey instance, built once from the settings, and the session factory its tasks use."""

from __future__ import annotations

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.blobs import BlobStore
from filrouge.db import create_db_engine, make_session_factory
from filrouge.settings import Settings, get_settings


def make_huey(settings: Settings) -> Huey:
    url = settings.queue_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("filrouge", url=url)
    if url == "memory://":
        return MemoryHuey("filrouge", immediate=True)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("filrouge", filename=str(settings.queue_path))


huey: Huey = make_huey(get_settings())
_factory: sessionmaker[Session] | None = None
_blobs: BlobStore | None = None
_settings: Settings | None = None


def bind_factory(factory: sessionmaker[Session]) -> None:
    """Tasks use this factory (the web app and the worker bind theirs at start)."""
    global _factory
    _factory = factory


def bind_blobs(blobs: BlobStore) -> None:
    """Tasks read attachments from this store (the web app binds its settings' one)."""
    global _blobs
    _blobs = blobs


def bind_settings(settings: Settings) -> None:
    """Tasks read limits and folders from these settings (the web app binds its own)."""
    global _settings
    _settings = settings


def task_settings() -> Settings:
    return _settings or get_settings()


def task_blobs() -> BlobStore:
    return _blobs or BlobStore(get_settings().attachments_dir)


def task_factory() -> sessionmaker[Session]:
    global _factory
    if _factory is None:
        _factory = make_session_factory(create_db_engine(get_settings().database_url))
    return _factory
