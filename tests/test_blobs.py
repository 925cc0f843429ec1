"""The attachment store: each content once, whole or not at all, and files written by older
versions (two levels of folders) still served."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from filrouge.core.blobs import BlobStore
from filrouge.core.models import Attachment
from helpers import receive

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def store_as_older_versions_did(root: Path, content: bytes) -> str:
    """Write ``content`` where versions before 2026-12 put it: ``<root>/ab/cd/<digest>``."""
    digest = hashlib.sha256(content).hexdigest()
    path = root / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return digest


def test_it_stores_the_same_bytes_once(tmp_path):
    blobs = BlobStore(tmp_path / "attachments")
    first = blobs.put(PHOTO)
    second = blobs.put(PHOTO)
    assert first == second == hashlib.sha256(PHOTO).hexdigest()
    assert [p.name for p in files_under(blobs.root)] == [first]
    assert blobs.get(first) == PHOTO


def test_it_leaves_no_temporary_file_behind(tmp_path):
    blobs = BlobStore(tmp_path / "attachments")
    digests = {blobs.put(n.to_bytes(2, "big") * 100) for n in range(300)}
    assert {p.name for p in files_under(blobs.root)} == digests


def test_it_reads_a_file_stored_under_the_old_layout(tmp_path):
    blobs = BlobStore(tmp_path / "attachments")
    digest = store_as_older_versions_did(blobs.root, PHOTO)
    assert blobs.get(digest) == PHOTO


def test_it_does_not_store_again_what_the_old_layout_holds(tmp_path):
    blobs = BlobStore(tmp_path / "attachments")
    digest = store_as_older_versions_did(blobs.root, PHOTO)
    assert blobs.put(PHOTO) == digest
    assert len(files_under(blobs.root)) == 1


def test_it_deletes_a_file_under_either_layout(tmp_path):
    blobs = BlobStore(tmp_path / "attachments")
    old = store_as_older_versions_did(blobs.root, PHOTO)
    new = blobs.put(b"%PDF-1.7 a new file")
    assert blobs.delete(old) is True
    assert blobs.delete(new) is True
    assert files_under(blobs.root) == []
    assert blobs.delete(new) is False


def test_it_refuses_what_is_not_a_digest(tmp_path):
    blobs = BlobStore(tmp_path / "attachments")
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        blobs.get("../../etc/passwd")
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        blobs.get("A" * 64)


def test_it_serves_an_attachment_stored_by_an_older_version(
    admin: Any, channel: Any, factory: Any, settings: Any
) -> None:
    api = channel("api")
    link = {"filename": "colis.png", "content_type": "image/png", "url": "https://cdn.test/a"}
    receive(admin, api["id"], "jeanne@example.fr", attachments=[link])
    digest = store_as_older_versions_did(settings.attachments_dir, PHOTO)
    with factory() as session, session.begin():  # as an older version left it
        attachment = session.scalars(select(Attachment)).one()
        attachment.sha256, attachment.size, attachment.url = digest, len(PHOTO), None
        attachment_id = attachment.id
    download = admin.get(f"/api/v1/attachments/{attachment_id}")
    assert download.status_code == 200
    assert download.content == PHOTO
