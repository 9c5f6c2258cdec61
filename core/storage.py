"""The document store: a local folder by default, addressed by the SHA-256 of the content.

Content addressing makes a stored document tamper-evident and deduplicated, and lets a record name
exactly the bytes it refers to.
"""
import contextlib
import hashlib
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import current_app


def _folder() -> Path:
    return Path(current_app.config["DOCUMENT_FOLDER"])


def _path(digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a SHA-256 hex digest")
    return _folder() / digest[:2] / digest


def _create(path: Path) -> tuple[int, str]:
    """A new temporary file next to ``path`` (O_EXCL: never one another writer holds), its folders made on
    first use. Returns (descriptor, name): ``path`` with a random suffix."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _attempt in range(100):
        tmp = f"{path}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            continue
    raise FileExistsError(f"no temporary name free next to {path}")


def _intact(path: Path) -> bool:
    """The file at ``path`` holds the bytes its name is the SHA-256 of (False when missing or damaged)."""
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest() == path.name
    except FileNotFoundError:
        return False


def _write(path: Path, data: bytes) -> None:
    if path.exists() and _intact(path):
        return  # the same bytes are there already; a damaged copy is replaced by these good ones
    fd, tmp = _create(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def put(data: bytes, sha256: str | None = None) -> str:
    """Store ``data`` under its SHA-256 (``sha256`` when the caller has just computed it from these very bytes,
    as unpacking a bid does) and return the digest. Atomic: a reader never sees half a document."""
    digest = sha256 or hashlib.sha256(data).hexdigest()
    _write(_path(digest), data)
    return digest


class Writer:
    """``put`` on a thread of its own, for a caller storing many documents between other work (creating a file
    costs more than writing its bytes). Leaving the ``with`` block waits for every write and raises the first
    failure: leave it before committing anything that names the documents."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="storage")
        self._writes = []

    def put(self, data: bytes, sha256: str | None = None) -> str:
        digest = sha256 or hashlib.sha256(data).hexdigest()
        self._writes.append(self._pool.submit(_write, _path(digest), data))
        return digest

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            for write in self._writes:
                failed = write.exception()  # waits for it
                if failed is not None and kind is None:  # the block's own failure, if any, goes first
                    raise failed
        finally:
            self._pool.shutdown()


def read(digest: str) -> bytes:
    """The stored bytes as they are, for a caller that checks them against ``digest`` itself (get does)."""
    return _path(digest).read_bytes()


def get(digest: str) -> bytes:
    data = read(digest)
    if hashlib.sha256(data).hexdigest() != digest:
        raise OSError(f"document {digest} is corrupted in the store")
    return data


def exists(digest: str) -> bool:
    return _path(digest).exists()
