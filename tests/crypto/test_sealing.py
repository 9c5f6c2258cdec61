"""HPKE sealing to a section's key: both suites, the key serialisation, the info string's binding."""
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from core.crypto import sealing

BIDDER = "91350100M000100Y43"


@pytest.mark.parametrize("suite", list(sealing.SUITES))
def test_a_bid_sealed_to_a_section_opens_only_with_its_key_section_and_bidder(suite):
    key = sealing.generate(suite)
    info = sealing.info("12", "ZB2026-001-01", BIDDER)
    ciphertext = sealing.seal(suite, key.public, b"price 1234.50", info)
    assert b"1234.50" not in ciphertext
    assert sealing.open_(suite, key.private, ciphertext, info) == b"price 1234.50"
    for other in (sealing.info("13", "ZB2026-001-01", BIDDER), sealing.info("12", "ZB2026-001-02", BIDDER),
                  sealing.info("12", "ZB2026-001-01", "91350200MA2XYZ0Q1B")):
        with pytest.raises(InvalidTag):
            sealing.open_(suite, key.private, ciphertext, other)
    with pytest.raises(InvalidTag):
        sealing.open_(suite, sealing.generate(suite).private, ciphertext, info)


def test_the_info_string_is_length_prefixed_byte_by_byte():
    assert sealing.info("12", "ZB-01", "91350100M000100Y43") == (
        b"eproc-bid-seal/1" + b"\x00\x02" + b"12" + b"\x00\x05" + b"ZB-01" + b"\x00\x12" + b"91350100M000100Y43")
    # Moving a character from one field to the next changes the string.
    assert sealing.info("1", "2ZB-01", BIDDER) != sealing.info("12", "ZB-01", BIDDER)
    # Lengths count UTF-8 bytes: 标段一 is 9 bytes.
    assert sealing.info("12", "标段一", BIDDER)[20:31] == b"\x00\x09" + "标段一".encode()


def test_the_hybrid_key_serialisation_is_seed_then_x25519_and_rebuilds_the_same_key():
    key = sealing.generate(sealing.MLKEM768_X25519)
    assert len(key.private) == 96 and len(key.public) == 1216
    ml = mlkem.MLKEM768PrivateKey.from_seed_bytes(key.private[:64])
    xk = x25519.X25519PrivateKey.from_private_bytes(key.private[64:])
    assert key.public == ml.public_key().public_bytes_raw() + xk.public_key().public_bytes_raw()
    # A ciphertext made by cryptography's own hybrid key objects opens with our serialised key.
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    ciphertext = suite.encrypt(b"bid", hpke.MLKEM768X25519PrivateKey(ml, xk).public_key(), info=b"i")
    assert sealing.open_(sealing.MLKEM768_X25519, key.private, ciphertext, b"i") == b"bid"
    assert len(ciphertext) == 1120 + 3 + 16  # enc (ML-KEM ciphertext 1088 + X25519 32), plaintext, tag


def test_x25519_keys_are_raw_32_bytes_and_the_ciphertext_is_enc_then_aead():
    key = sealing.generate()
    assert key.suite == sealing.X25519 and len(key.private) == len(key.public) == 32
    ciphertext = sealing.seal(key.suite, key.public, b"bid", b"i")
    assert len(ciphertext) == 32 + 3 + 16
    assert key.fingerprint == __import__("hashlib").sha256(key.public).hexdigest()


def test_keys_of_the_wrong_size_are_refused():
    with pytest.raises(ValueError):
        sealing.seal(sealing.MLKEM768_X25519, sealing.generate().public, b"x", b"i")
    with pytest.raises(ValueError):
        sealing.open_(sealing.X25519, b"\x00" * 96, b"x" * 60, b"i")


def test_docs_formats_shows_the_info_string_byte_by_byte():
    """docs/formats.md's example is what the code makes (a third party builds from the document)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")
    example = ("6570726f632d6269642d7365616c2f31 0002 3132 0005 5a422d3031 0012 3931333530313030 "
               "4d30303031303059 3433")
    assert example in text
    assert bytes.fromhex(example.replace(" ", "")) == sealing.info("12", "ZB-01", "91350100M000100Y43")
