"""A section's extract of the journal, verified as a third party would: with docs/formats.md, `cryptography`,
`hashlib` and `json`, nothing of ours."""
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from tests.supervision.test_replay import closed, sealed  # noqa: F401  (fixtures: a sealed, answered opening)
from tests.tender.conftest import published, submitted  # noqa: F401
from tests.tender.test_opening import bidder_pki  # noqa: F401


class Refused(Exception):
    pass


def verify_extract(text: str) -> dict:
    """docs/formats.md, "A section's extract": returns what was proven, or raises Refused naming the line."""
    lines = [json.loads(line) for line in text.splitlines()]
    certificates = [x509.load_pem_x509_certificate(c["pem"].encode()) for c in lines if c["type"] == "certificate"]
    cas = [c for c in certificates if c.issuer == c.subject]
    seals = {}
    for cert in certificates:
        if cert.issuer != cert.subject:
            if not any(_issued_by(cert, ca) for ca in cas):
                raise Refused("a seal certificate not issued by the platform CA")
            seals[hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()] = cert
    listed, bodies, prevs = {}, {}, {}
    for line in lines:
        if line["type"] == "entry":
            digest = hashlib.sha256(line["body"].encode("utf-8")).hexdigest()
            if digest != line["hash"]:
                raise Refused(f"entry {line['seq']}: the hash is not the SHA-256 of the body")
            body = json.loads(line["body"])
            if body["seq"] != line["seq"]:
                raise Refused(f"entry {line['seq']}: the body names another seq")
            listed[line["seq"]], bodies[line["seq"]], prevs[line["seq"]] = digest, body, body["prev"]
        elif line["type"] == "withheld":
            listed[line["seq"]], prevs[line["seq"]] = line["hash"], line["prev"]
    for seq, prev in prevs.items():
        if seq - 1 in listed and listed[seq - 1] != prev:
            raise Refused(f"entry {seq}: prev is not the hash of entry {seq - 1}")
    signed = []
    for line in (x for x in lines if x["type"] == "checkpoint"):
        checkpoint = json.loads(line["body"])
        try:
            seals[checkpoint["certificate"]].public_key().verify(bytes.fromhex(line["signature"]),
                                                                 line["body"].encode(), ec.ECDSA(hashes.SHA256()))
        except Exception as error:
            raise Refused(f"checkpoint {checkpoint['seq']}: the signature does not verify") from error
        if checkpoint["seq"] in listed and listed[checkpoint["seq"]] != checkpoint["head"]:
            raise Refused(f"checkpoint {checkpoint['seq']}: signs another hash")
        signed.append(checkpoint["seq"])
    covered = []
    for seq in bodies:
        end = min((c for c in signed if c >= seq), default=None)
        if end is not None and all(s in listed for s in range(seq, end + 1)):
            covered.append(seq)
    return {"entries": bodies, "covered": covered, "withheld": len(listed) - len(bodies)}


def _issued_by(cert, ca) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not issued by this CA"
        return False


def extract(login, section) -> str:
    supervisor = login("supervisor")
    assert supervisor.post("/supervision/journal/checkpoints").status_code == 302  # covers the responses too
    answer = supervisor.get(f"/supervision/sections/{section.id}/journal.jsonl")
    assert answer.status_code == 200 and answer.mimetype == "application/jsonl"
    return answer.text


def test_the_extract_verifies_offline_and_withholds_what_is_not_the_sections(login, demo, sealed):  # noqa: F811
    section = sealed[0].section
    text = extract(login, section)
    proven = verify_extract(text)
    actions = [b["action"] for b in proven["entries"].values()]
    assert "tender.section.finish_opening" in actions and actions.count("tender.opening.bids_decided") == 1
    assert {b["subject"]["id"] for b in proven["entries"].values()} == {str(section.id)}
    assert sorted(proven["covered"]) == sorted(proven["entries"])  # every entry bound to a signed checkpoint
    assert proven["withheld"] > 0 and "user.signed_in" not in text  # others' entries: seq, prev and hash only


def _tampered(text: str, change) -> str:
    lines = [json.loads(line) for line in text.splitlines()]
    target = next(x for x in lines if x["type"] == "entry" and '"tender.opening.bids_decided"' in x["body"])
    change(target)
    return "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)


def test_one_byte_changed_in_an_included_body_is_detected(login, demo, sealed):  # noqa: F811
    text = extract(login, sealed[0].section)

    def one_byte(entry):
        entry["body"] = entry["body"].replace('"price":"9', '"price":"8', 1)

    def and_its_hash(entry):
        one_byte(entry)
        entry["hash"] = hashlib.sha256(entry["body"].encode()).hexdigest()

    with pytest.raises(Refused, match="the hash is not the SHA-256"):
        verify_extract(_tampered(text, one_byte))
    with pytest.raises(Refused, match="prev is not the hash"):  # the next entry still names the old hash
        verify_extract(_tampered(text, and_its_hash))


def test_a_section_not_yet_covered_by_a_checkpoint_verifies_but_is_not_bound(login, demo, published):  # noqa: F811
    """Published, never opened, no checkpoint signed since: its entries verify, none is bound to a checkpoint."""
    text = login("supervisor").get(f"/supervision/sections/{published.id}/journal.jsonl").text
    proven = verify_extract(text)
    assert "tender.section.publish" in [b["action"] for b in proven["entries"].values()]
    assert proven["covered"] == []


def test_the_extract_streams_one_snapshot_and_holds_up_no_writer(app, demo, published):  # noqa: F811
    from tests.supervision.test_journal_pages import assert_streams_one_snapshot_holding_up_no_writer
    assert_streams_one_snapshot_holding_up_no_writer(app, f"/supervision/sections/{published.id}/journal.jsonl")
