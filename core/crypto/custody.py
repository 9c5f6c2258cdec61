"""Key custody: a section's opening private key split k-of-n, each share encrypted to a keyholder.

- A keyholder's **personal key** is an X25519 key pair. Its private half is stored only inside a
  *personal key box*: AES-256-GCM under a key derived with Argon2id from the keyholder's PIN (at least
  8 characters) with the installation's PEPPER as Argon2's secret input. The pepper lives in the
  environment or instance/secrets.json, never in the database, so the stored boxes alone open nothing.
- The opening key is split with SLIP-39 (``shamir-mnemonic``, the reference implementation with published
  test vectors): one group, threshold k of n members, empty passphrase, iteration exponent 0. Each share
  (its mnemonic, UTF-8) is HPKE-sealed to one keyholder's personal public key with an info string naming
  the section's key and the keyholder, so a share cannot be moved to another key or keyholder.
- At the opening, each keyholder unwraps a share with the PIN in the request that releases it; the share
  is then kept, until the decryption job has used it, only *released-share boxed*: AES-256-GCM under a key
  derived with HKDF-SHA256 from the pepper and the section's key label (so again the database alone
  opens nothing). With k shares ``combine`` rebuilds the key in the job's memory only.

Formats byte by byte: docs/formats.md, "Key custody".
"""
import os
import struct
from dataclasses import dataclass

import shamir_mnemonic
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _

from core.crypto import sealing
from core.errors import DomainError

MIN_PIN = 8
BOX_MAGIC = b"EPK1"
KDF_ARGON2ID = 1
SALT_SIZE = 16
SHARE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
SHARE_MAGIC = b"EKS1"
BOX_LABEL = b"eproc-personal-key/1"
SHARE_LABEL = b"eproc-key-share/1"
RELEASED_MAGIC = b"ERS1"
RELEASED_LABEL = b"eproc-released-share/1"
DEFAULT_THRESHOLD, DEFAULT_SHARES = 2, 3
# RFC 9106's second recommended option: t=3, 64 MiB, 4 lanes (production; config CUSTODY_KDF).
PRODUCTION_KDF = {"iterations": 3, "memory_cost": 65536, "lanes": 4}


class CustodyError(DomainError):
    status = 422


@dataclass(frozen=True)
class PersonalKey:
    public: bytes  # 32 bytes, X25519: may be stored and shown in the clear
    box: bytes  # the private key under PIN and pepper (format "EPK1")


@dataclass(frozen=True)
class WrappedShare:
    holder: str  # who can unwrap it, e.g. "user:12"
    public: bytes  # the holder's personal public key it was sealed to
    box: bytes  # "EKS1" ‖ HPKE ciphertext of the share's mnemonic


def _pepper(pepper: bytes | None) -> bytes:
    pepper = current_app.config["PEPPER"] if pepper is None else pepper
    if len(pepper) < 16:
        raise RuntimeError("PEPPER must be at least 16 bytes")
    return pepper


def kdf_parameters() -> dict:
    return dict(current_app.config.get("CUSTODY_KDF") or PRODUCTION_KDF)


def _check_pin(pin: str) -> bytes:
    if not isinstance(pin, str) or len(pin) < MIN_PIN:
        raise CustodyError("pin_too_short", _("A PIN has at least %(count)d characters.", count=MIN_PIN))
    return pin.encode("utf-8")


def _kek(pin: bytes, salt: bytes, iterations: int, memory_cost: int, lanes: int, pepper: bytes) -> bytes:
    return Argon2id(salt=salt, length=32, iterations=iterations, lanes=lanes, memory_cost=memory_cost,
                    secret=pepper).derive(pin)


def _aad(holder: str, public: bytes) -> bytes:
    raw = holder.encode("utf-8")
    return BOX_LABEL + struct.pack(">H", len(raw)) + raw + public


def _box(private: bytes, public: bytes, holder: str, pin: str, pepper: bytes | None) -> bytes:
    params = kdf_parameters()
    salt, nonce = os.urandom(SALT_SIZE), os.urandom(12)
    kek = _kek(_check_pin(pin), salt, params["iterations"], params["memory_cost"], params["lanes"],
               _pepper(pepper))
    return (BOX_MAGIC + struct.pack(">BIII", KDF_ARGON2ID, params["iterations"], params["memory_cost"],
                                    params["lanes"]) + salt + nonce
            + AESGCM(kek).encrypt(nonce, private, _aad(holder, public)))


def make_personal_key(holder: str, pin: str, *, pepper: bytes | None = None) -> PersonalKey:
    """A new personal key for ``holder`` (e.g. "user:12"), its private half boxed under ``pin``. Also
    what a PIN reset does: the new key takes part only in sections split afterwards."""
    _check_pin(pin)
    private = x25519.X25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    return PersonalKey(public, _box(private.private_bytes_raw(), public, holder, pin, pepper))


def open_personal_key(key: PersonalKey, holder: str, pin: str, *, pepper: bytes | None = None) -> bytes:
    """The raw X25519 private key; CustodyError("pin_wrong") if the PIN (or pepper) is not the one."""
    box = key.box
    if box[:4] != BOX_MAGIC or len(box) != 4 + 13 + SALT_SIZE + 12 + 32 + 16:
        raise CustodyError("personal_key_malformed", _("The stored personal key is damaged."))
    kdf, iterations, memory_cost, lanes = struct.unpack(">BIII", box[4:17])
    if kdf != KDF_ARGON2ID:
        raise CustodyError("personal_key_malformed", _("The stored personal key is damaged."))
    salt, nonce, sealed = box[17:33], box[33:45], box[45:]
    pin_bytes = pin.encode("utf-8") if isinstance(pin, str) else b""
    kek = _kek(pin_bytes, salt, iterations, memory_cost, lanes, _pepper(pepper))
    try:
        private = AESGCM(kek).decrypt(nonce, sealed, _aad(holder, key.public))
    except InvalidTag:
        raise CustodyError("pin_wrong", _("The PIN is not correct.")) from None
    if x25519.X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw() != key.public:
        raise CustodyError("personal_key_malformed", _("The stored personal key is damaged."))
    return private


def change_pin(key: PersonalKey, holder: str, old_pin: str, new_pin: str, *,
               pepper: bytes | None = None) -> PersonalKey:
    """The same personal key boxed under ``new_pin`` (shares already wrapped to it stay usable)."""
    _check_pin(new_pin)
    private = open_personal_key(key, holder, old_pin, pepper=pepper)
    return PersonalKey(key.public, _box(private, key.public, holder, new_pin, pepper))


def _share_info(key_label: str, holder: str) -> bytes:
    label, who = key_label.encode("utf-8"), holder.encode("utf-8")
    return SHARE_LABEL + struct.pack(">H", len(label)) + label + struct.pack(">H", len(who)) + who


def split_and_wrap(secret: bytes, holders: list[tuple[str, bytes]], key_label: str,
                   threshold: int = DEFAULT_THRESHOLD) -> list[WrappedShare]:
    """Split ``secret`` (the opening private key: 32 or 96 bytes) ``threshold``-of-len(holders) and seal
    share i to holders[i] = (holder, personal public key). ``key_label`` names the key everywhere the
    share goes (e.g. "section:12:<key fingerprint>")."""
    if not 2 <= threshold <= len(holders) <= 16:
        raise CustodyError("custody_threshold", _("Choose between 2 and %(count)d keyholders needed to open.",
                                                  count=len(holders)))
    if len({h for h, _k in holders}) != len(holders):
        raise CustodyError("custody_holders", _("Each keyholder may hold only one share."))
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, len(holders))], secret, passphrase=b"",
                                                  extendable=True, iteration_exponent=0)
    wrapped = []
    for (holder, public), mnemonic in zip(holders, groups[0], strict=True):
        recipient = x25519.X25519PublicKey.from_public_bytes(public)
        box = SHARE_MAGIC + SHARE_SUITE.encrypt(mnemonic.encode("utf-8"), recipient,
                                                info=_share_info(key_label, holder))
        wrapped.append(WrappedShare(holder, public, box))
    return wrapped


def unwrap_share(share: WrappedShare, personal: PersonalKey, pin: str, key_label: str, *,
                 pepper: bytes | None = None) -> str:
    """The share (a SLIP-39 mnemonic) in ``share``, opened with the holder's personal key and PIN."""
    if personal.public != share.public:
        raise CustodyError("share_other_key", _("This share was given to an earlier personal key of yours: "
                                                "it cannot be opened with the current one."))
    private = open_personal_key(personal, share.holder, pin, pepper=pepper)
    if share.box[:4] != SHARE_MAGIC:
        raise CustodyError("share_malformed", _("The stored key share is damaged."))
    try:
        return SHARE_SUITE.decrypt(share.box[4:], x25519.X25519PrivateKey.from_private_bytes(private),
                                   info=_share_info(key_label, share.holder)).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise CustodyError("share_malformed", _("The stored key share is damaged or belongs to another "
                                                "section.")) from None


def _released_key(key_label: str, pepper: bytes | None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=RELEASED_LABEL + key_label.encode("utf-8")).derive(_pepper(pepper))


def box_released_share(mnemonic: str, key_label: str, holder: str, *, pepper: bytes | None = None) -> bytes:
    """A share released for an opening, boxed for the decryption job: "ERS1" ‖ nonce ‖ AES-256-GCM."""
    nonce = os.urandom(12)
    return RELEASED_MAGIC + nonce + AESGCM(_released_key(key_label, pepper)).encrypt(
        nonce, mnemonic.encode("utf-8"), _share_info(key_label, holder))


def open_released_share(box: bytes, key_label: str, holder: str, *, pepper: bytes | None = None) -> str:
    try:
        if box[:4] != RELEASED_MAGIC:
            raise InvalidTag
        return AESGCM(_released_key(key_label, pepper)).decrypt(box[4:16], box[16:],
                                                                _share_info(key_label, holder)).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise CustodyError("share_malformed", _("A released key share is damaged or belongs to another "
                                                "section.")) from None


def combine(shares: list[str]) -> bytes:
    """The secret rebuilt from at least ``threshold`` shares (in memory only)."""
    try:
        return shamir_mnemonic.combine_mnemonics(list(shares), b"")
    except shamir_mnemonic.MnemonicError as error:
        message = str(error)
        if "Wrong number of mnemonics" in message or "Insufficient number" in message or "is empty" in message:
            raise CustodyError("shares_insufficient", _("Not enough keyholders have given their shares yet."
                                                        )) from None
        raise CustodyError("shares_invalid", _("The shares do not belong together.")) from None


@dataclass(frozen=True)
class OpeningKey:
    """What the platform keeps of a section's opening key: its public half and the wrapped shares."""
    suite: str
    public: bytes
    key_label: str  # "section:<id>:<fingerprint>", needed to unwrap the shares
    shares: list[WrappedShare]


def make_opening_key(section_id, holders: list[tuple[str, bytes]], suite: str = sealing.DEFAULT_SUITE,
                     threshold: int = DEFAULT_THRESHOLD) -> OpeningKey:
    """At publication: a fresh opening key pair for the section, its private half split among ``holders``
    ((holder, personal public key), e.g. centre, procuring unit, supervisor) and dropped; only the public
    key and the wrapped shares come back, for the database."""
    pair = sealing.generate(suite)
    label = f"section:{section_id}:{pair.fingerprint}"
    return OpeningKey(suite, pair.public, label, split_and_wrap(pair.private, holders, label, threshold))


def rebuild_opening_key(opening: OpeningKey, shares: list[str]) -> bytes:
    """At the opening: the private key from ``threshold`` unwrapped shares, checked against the public key."""
    private = combine(shares)
    try:
        matches = sealing.public_from_private(opening.suite, private) == opening.public
    except ValueError:
        matches = False
    if not matches:
        raise CustodyError("shares_invalid", _("The shares do not belong together."))
    return private
