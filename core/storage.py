"""The document store: a local folder by default, addressed by the SHA-256 of the content.

Content addressing makes a stored document tamper-evident and deduplicated, and lets a record name
exactly the bytes it refers to.
"""
import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


def _folder() -> Path:
    folder = Path(current_app.config["DOCUMENT_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a SHA-256 hex digest")
    return _folder() / digest[:2] / digest


def put(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = _path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a document
    return digest


def get(digest: str) -> bytes:
    data = _path(digest).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise OSError(f"document {digest} is corrupted in the store")
    return data


def exists(digest: str) -> bool:
    return _path(digest).exists()
