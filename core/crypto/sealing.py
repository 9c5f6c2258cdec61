"""HPKE (RFC 9180) sealing to a section's opening key, single-shot, base mode.

Two suites (docs/formats.md, "Opening keys"):

- ``x25519``          DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM — the default;
- ``mlkem768-x25519`` ML-KEM-768 + X25519 hybrid KEM / HKDF-SHA256 / AES-256-GCM (post-quantum hybrid).

Keys travel as raw bytes: X25519 private 32 bytes, public 32 bytes; the hybrid has no serialisation of
its own, so ours is ML-KEM-768 seed (64 bytes, d‖z of FIPS 203) ‖ X25519 private (32) = 96 bytes, and
ML-KEM-768 encapsulation key (1184 bytes) ‖ X25519 public (32) = 1216 bytes.
The info string binds a seal to the section and the bidder (``info``).
"""
import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

X25519 = "x25519"
MLKEM768_X25519 = "mlkem768-x25519"
DEFAULT_SUITE = X25519
SUITES = {
    X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    MLKEM768_X25519: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}
PRIVATE_SIZE = {X25519: 32, MLKEM768_X25519: 96}
PUBLIC_SIZE = {X25519: 32, MLKEM768_X25519: 1216}
INFO_LABEL = b"eproc-bid-seal/1"


@dataclass(frozen=True)
class KeyPair:
    suite: str
    private: bytes  # the secret custody splits; never stored whole
    public: bytes

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public)


def _suite(suite: str) -> hpke.Suite:
    try:
        return SUITES[suite]
    except KeyError:
        raise ValueError(f"unknown suite {suite!r}") from None


def generate(suite: str = DEFAULT_SUITE) -> KeyPair:
    _suite(suite)
    if suite == X25519:
        private = x25519.X25519PrivateKey.generate().private_bytes_raw()
    else:
        private = (mlkem.MLKEM768PrivateKey.generate().private_bytes_raw()
                   + x25519.X25519PrivateKey.generate().private_bytes_raw())
    return KeyPair(suite, private, public_from_private(suite, private))


def _private_key(suite: str, private: bytes):
    if len(private) != PRIVATE_SIZE.get(suite, -1):
        raise ValueError(f"a {suite} private key has {PRIVATE_SIZE.get(suite)} bytes")
    if suite == X25519:
        return x25519.X25519PrivateKey.from_private_bytes(private)
    return hpke.MLKEM768X25519PrivateKey(mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:64]),
                                         x25519.X25519PrivateKey.from_private_bytes(private[64:]))


def _public_key(suite: str, public: bytes):
    if len(public) != PUBLIC_SIZE.get(suite, -1):
        raise ValueError(f"a {suite} public key has {PUBLIC_SIZE.get(suite)} bytes")
    if suite == X25519:
        return x25519.X25519PublicKey.from_public_bytes(public)
    return hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(public[:1184]),
                                        x25519.X25519PublicKey.from_public_bytes(public[1184:]))


def public_from_private(suite: str, private: bytes) -> bytes:
    _suite(suite)
    if suite == X25519:
        return _private_key(suite, private).public_key().public_bytes_raw()
    if len(private) != PRIVATE_SIZE[suite]:
        raise ValueError(f"a {suite} private key has {PRIVATE_SIZE[suite]} bytes")
    return (mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:64]).public_key().public_bytes_raw()
            + x25519.X25519PrivateKey.from_private_bytes(private[64:]).public_key().public_bytes_raw())


def key_fingerprint(public: bytes) -> str:
    """How envelopes name the key they were sealed to: SHA-256 of the public key bytes, hex."""
    return hashlib.sha256(public).hexdigest()


def _field(value: str) -> bytes:
    raw = value.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError("info field too long")
    return struct.pack(">H", len(raw)) + raw


def info(section_id: str, section_code: str, bidder_credit_code: str) -> bytes:
    """b"eproc-bid-seal/1" ‖ for each of section id, section code, bidder's credit code: its UTF-8
    length as 2 bytes big-endian ‖ its UTF-8 bytes."""
    return INFO_LABEL + _field(str(section_id)) + _field(section_code) + _field(bidder_credit_code)


def seal(suite: str, public: bytes, plaintext: bytes, info_bytes: bytes) -> bytes:
    """enc ‖ AES-256-GCM ciphertext and tag (RFC 9180 single-shot Seal, base mode, empty aad)."""
    return _suite(suite).encrypt(plaintext, _public_key(suite, public), info=info_bytes)


def open_(suite: str, private: bytes, ciphertext: bytes, info_bytes: bytes) -> bytes:
    """The plaintext; cryptography.exceptions.InvalidTag if the key, info or ciphertext is not the one sealed."""
    return _suite(suite).decrypt(ciphertext, _private_key(suite, private), info=info_bytes)
