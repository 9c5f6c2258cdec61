"""Bids through the API as the bidding tool sends them, and the canary: a marker sealed in every bid is
found nowhere the platform keeps or writes anything, nor is the opening key."""
import base64
import gzip
import hashlib
import io
import logging
import os
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy import inspect, select, text

from accounts import keys, tokens
from accounts.demo import DEMO_PIN
from core import clock, seal
from core.crypto import custody, envelope
from core.extensions import db
from tender import participation
from tender.models import Bid
from tests.tender.factories import BidderPki

API = "/api/v1/tender"


@pytest.fixture
def bidder_pki(app, tmp_path):
    saved = app.config["TRUST_STORE_DIR"]
    yield BidderPki(app, tmp_path / "trust")
    app.config["TRUST_STORE_DIR"] = saved


def token(user) -> dict:
    _token, secret = tokens.create(user, "bidding tool", 30, clock.now())
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def post_envelope(client, section_id, data, headers, **extra):
    return client.post(f"{API}/sections/{section_id}/bids", data=data,
                       headers={**headers, "Content-Type": "application/octet-stream", **extra})


def test_the_tool_gets_the_key_submits_and_keeps_a_receipt_it_can_verify_offline(client, demo, published, bidder_pki):
    participation.register(demo["bidder1"], published, clock.now())
    headers = token(demo["bidder1"])
    key_file = client.get(f"{API}/sections/{published.id}/key", headers=headers)
    assert key_file.status_code == 200 and key_file.get_json()["public_key"] == published.key.public_key.hex()
    data = bidder_pki.seal(published, demo["bidder1"])
    answer = post_envelope(client, published.id, data, headers, **{"Idempotency-Key": "envelope-1"})
    assert answer.status_code == 201
    body = envelope.verify_receipt(answer.data, seal.current("seal").certificate_pem)
    assert body["envelope"]["sha256"] == hashlib.sha256(data).hexdigest()
    # A retry after a lost answer gets the same receipt, and no second bid.
    again = post_envelope(client, published.id, data, headers, **{"Idempotency-Key": "envelope-1"})
    assert again.status_code == 201 and again.data == answer.data
    assert len(db.session.scalars(select(Bid)).all()) == 1
    listed = client.get(f"{API}/sections/{published.id}/bids", headers=headers).get_json()["bids"]
    assert [b["status"] for b in listed] == ["submitted"]
    withdrawn = client.post(f"{API}/bids/{listed[0]['id']}/withdraw", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"


def test_refusals_carry_the_reason(client, demo, published, bidder_pki):
    participation.register(demo["bidder1"], published, clock.now())
    headers = token(demo["bidder1"])
    bad = post_envelope(client, published.id, b"plaintext bid: 1000000 yuan", headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "envelope_malformed"
    from core import settings
    settings.change(demo["admin"], "tender.envelope_max_mb", "1", None, "测试", clock.now())
    db.session.commit()
    big = post_envelope(client, published.id, b"\0" * (1024 * 1024 + 1), headers)
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "envelope_too_large"
    others = token(demo["bidder3"])
    assert post_envelope(client, published.id, bidder_pki.seal(published, demo["bidder3"]), others) \
        .get_json()["error"]["code"] == "not_registered"


# The canary.

def encodings(secret: bytes) -> list[bytes]:
    """The forms a secret could be written in: plain, hex (both cases), base64 (every alignment)."""
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret)[4:][:-4]  # the aligned middle survives any prefix
        forms += [encoded, encoded.replace(b"+", b"-").replace(b"/", b"_")]
    return [f for f in forms if len(f) >= 8]


def expanded(blob: bytes) -> list[bytes]:
    """The blob, and what it holds if it is compressed (zlib, gzip, zip)."""
    found = [blob]
    for opener in (zlib.decompress, gzip.decompress):
        try:
            found.append(opener(blob))
        except Exception:  # noqa: BLE001 - not that kind of file
            pass
    if blob[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                found += [archive.read(name) for name in archive.namelist()]
        except zipfile.BadZipFile:
            pass
    return found


def leaks(needles: list[bytes], places: dict[str, bytes]) -> list[str]:
    return [where for where, blob in places.items() for inner in expanded(blob) for needle in needles
            if needle in inner]


def database_rows() -> dict[str, bytes]:
    rows = {}
    for table in inspect(db.session.connection()).get_table_names():
        for i, row in enumerate(db.session.execute(text(f'SELECT * FROM "{table}"'))):
            rows[f"{table}[{i}]"] = b"\x1f".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    return rows


def files_under(folder: Path, since: float) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.stat().st_mtime >= since and p.stat().st_size < 300 * 1024 * 1024}


def redis_values() -> dict[str, bytes]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        return {}
    import redis
    client = redis.Redis.from_url(url)
    values = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            values[f"redis:{key!r}"] = client.get(key)
        elif kind == b"list":
            values[f"redis:{key!r}"] = b"".join(client.lrange(key, 0, -1))
        elif kind == b"hash":
            values[f"redis:{key!r}"] = b"".join(k + v for k, v in client.hgetall(key).items())
    return values


def test_a_sealed_marker_and_the_opening_key_are_found_nowhere(app, client, demo, published, bidder_pki,
                                                                instance_dir, caplog):
    # The scanner itself finds a secret hidden as base64 inside gzip.
    assert leaks(encodings(b"scanner-self-check"), {"probe": gzip.compress(base64.b64encode(b"x" + b"scanner-self-check"))})
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    marker = os.urandom(12).hex()  # the canary, placed in every bid's terms and document
    bidders = ["bidder1", "bidder2", "bidder3"]
    for name in bidders:
        participation.register(demo[name], published, clock.now())
    headers = {name: token(demo[name]) for name in bidders}
    for round_ in range(4):
        for name in bidders:
            data = bidder_pki.seal(published, demo[name], price=f"{1000000 + round_}.00", marker=marker)
            assert marker.encode() not in data  # sealed before it leaves the bidder
            assert post_envelope(client, published.id, data, headers[name]).status_code == 201
    db.session.commit()
    # The opening key, rebuilt here from two keyholders' shares as the opening will.
    key = published.key
    shares = []
    for share in key.shares[:2]:
        personal = keys.current(share.user)
        shares.append(custody.unwrap_share(custody.WrappedShare(share.holder, share.public, share.box),
                                           custody.PersonalKey(personal.public, personal.box), DEMO_PIN,
                                           key.key_label))
    opening = custody.OpeningKey(key.suite, key.public_key, key.key_label,
                                 [custody.WrappedShare(s.holder, s.public, s.box) for s in key.shares])
    private = custody.rebuild_opening_key(opening, shares)
    pem = x25519.X25519PrivateKey.from_private_bytes(private).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # Every bid opens with it: the marker is really in there.
    bid = db.session.scalars(select(Bid)).first()
    from core import storage
    opened = envelope.open_envelope(storage.get(bid.envelope_sha256), private_key=private,
                                    section_public_key=key.public_key)
    assert marker in str(opened.terms)

    places = {**database_rows(), **files_under(instance_dir, started),
              **files_under(Path(tempfile.gettempdir()), started), **redis_values(),
              "logs": "\n".join(r.getMessage() for r in caplog.records).encode()}
    assert leaks(encodings(marker.encode()), places) == []
    assert leaks(encodings(private) + [pem], places) == []
    # One keyholder alone cannot rebuild it; the stored boxes without the pepper open nothing.
    with pytest.raises(custody.CustodyError):
        custody.rebuild_opening_key(opening, shares[:1])
    personal = keys.current(key.shares[0].user)
    with pytest.raises(custody.CustodyError) as no_pepper:
        custody.open_personal_key(custody.PersonalKey(personal.public, personal.box), key.shares[0].holder, DEMO_PIN,
                                  pepper=os.urandom(32))
    assert no_pepper.value.code == "pin_wrong"
