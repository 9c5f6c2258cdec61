"""Secrets the platform must read back (TOTP seeds, later private keys), encrypted under MASTER_KEY.

MASTER_KEY lives in the environment or ``instance/secrets.json``, never in the database, so a copy of
the database alone reveals none of these secrets. AES-256-GCM; the purpose string is bound as
associated data so a ciphertext cannot be moved from one use to another.
Format: b"v1" || 12-byte nonce || ciphertext-and-tag.
"""
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

VERSION = b"v1"


def _key() -> bytes:
    key = current_app.config["MASTER_KEY"]
    if len(key) != 32:
        raise RuntimeError("MASTER_KEY must be 32 bytes (64 hex characters)")
    return key


def seal(plaintext: bytes, purpose: str) -> bytes:
    nonce = os.urandom(12)
    return VERSION + nonce + AESGCM(_key()).encrypt(nonce, plaintext, purpose.encode())


def open_(box: bytes, purpose: str) -> bytes:
    if box[:2] != VERSION:
        raise ValueError("unknown secret box version")
    try:
        return AESGCM(_key()).decrypt(box[2:14], box[14:], purpose.encode())
    except InvalidTag:
        raise ValueError("secret box does not open with this MASTER_KEY and purpose") from None
