"""Checking an uploaded document before it is stored: not empty, not too large, and of a type we accept,
judged by its first bytes as well as its name (a renamed executable is not a PDF).

Five signatures cover the formats procurement paperwork comes in, so a few lines here serve better than
a dependency.
"""
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from core import storage
from core.errors import DomainError

ZIP, OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# extension -> (content type, the signatures its bytes start with)
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "ofd": ("application/ofd", (ZIP,)),  # 版式文档 (GB/T 33190), a zip container
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (ZIP,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
    "doc": ("application/msword", (OLE,)),
    "xls": ("application/vnd.ms-excel", (OLE,)),
    "zip": ("application/zip", (ZIP,)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(c for c in name if c.isprintable())[:200]


def store(filename: str, data: bytes) -> Upload:
    """Check the document and store it content-addressed; refuse with a reason code otherwise."""
    filename = clean_filename(filename)
    if not filename:
        raise DomainError("document_missing", _("Choose a file to upload."))
    if not data:
        raise DomainError("document_empty", _("The file %(name)s is empty.", name=filename))
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError("document_too_large", _("The file %(name)s is larger than %(mb)s MB.",
                                                  name=filename, mb=limit // (1024 * 1024)), 413)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    kind = DOCUMENT_TYPES.get(extension)
    if kind is None:
        raise DomainError("document_type", _("Files of this type are not accepted: upload PDF, OFD, Word, Excel, "
                                             "ZIP, JPEG or PNG files."), 415)
    content_type, signatures = kind
    if not data.startswith(signatures):
        raise DomainError("document_content", _("The file %(name)s is not a real .%(ext)s file.",
                                                name=filename, ext=extension), 415)
    return Upload(filename, content_type, len(data), storage.put(data))
