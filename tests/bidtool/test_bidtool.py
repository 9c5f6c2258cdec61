"""The bidder's tool against the platform: what eproc-bid seals the server's checker accepts and opens,
what the server signs eproc-bid's receipt verifier accepts; and the tool stands alone."""
import ast
import hashlib
import json
import subprocess
import sys
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from core import seal
from core.crypto import envelope as env, pki, sealing
from core.crypto.envelope import Document, EnvelopeRefused
from eproc_bid import cli, formats
from tests.crypto.conftest import BIDDER_CODE

BIDTOOL = Path(__file__).resolve().parents[2] / "bidtool"
SERVER_PACKAGES = {"core", "accounts", "tender", "mall", "supervision", "app", "wsgi", "worker"}
SECTION = {"section_id": "12", "section_code": "ZB2026-001-01"}


def write_bidder(tmp_path, demo_pki, algorithm="p256"):
    holder = demo_pki.issue(algorithm=algorithm)
    (tmp_path / "bidder.key.pem").write_bytes(pki.private_pem(holder.key))
    (tmp_path / "bidder.pem").write_text(pki.pem(holder.certificate))
    return holder


def write_section_key(tmp_path, key):
    (tmp_path / "section.key.json").write_bytes(env.section_key_file(suite=key.suite, public_key=key.public,
                                                                     **SECTION))


@pytest.mark.parametrize("suite", list(sealing.SUITES))
@pytest.mark.parametrize("algorithm", ["p256", "ed25519"])
def test_the_server_accepts_and_opens_what_eproc_bid_seals(tmp_path, demo_pki, suite, algorithm):
    key = sealing.generate(suite)
    write_section_key(tmp_path, key)
    write_bidder(tmp_path, demo_pki, algorithm)
    (tmp_path / "技术标.pdf").write_bytes(b"%PDF-1.7 technical MARKER")
    code = cli.main(["seal", "--section-key", str(tmp_path / "section.key.json"), "--key",
                     str(tmp_path / "bidder.key.pem"), "--certificate", str(tmp_path / "bidder.pem"),
                     "--price", "1,234,567.5", "--term", "delivery_days=30", "--document",
                     str(tmp_path / "技术标.pdf"), "--out", str(tmp_path / "bid.env")])
    assert code == 0
    data = (tmp_path / "bid.env").read_bytes()
    assert b"MARKER" not in data
    checked = env.check_envelope(data, section_public_key=key.public, bidder=BIDDER_CODE,
                                 anchors=demo_pki.anchors, now=demo_pki.now, **SECTION)
    bid = env.open_envelope(data, private_key=key.private, section_public_key=key.public,
                            expected_sha256=checked.sha256)
    assert bid.price == Decimal("1234567.50") and bid.terms == {"delivery_days": "30"}
    assert bid.documents == [Document("技术标.pdf", "application/pdf", b"%PDF-1.7 technical MARKER")]
    with pytest.raises(EnvelopeRefused) as refused:
        env.check_envelope(data, section_public_key=key.public, bidder=BIDDER_CODE, anchors=demo_pki.anchors,
                           now=demo_pki.now, section_id="13", section_code="ZB2026-001-02")
    assert refused.value.code == "section_mismatch"


def test_both_sides_pack_the_same_content_byte_for_byte():
    documents = [("a.pdf", "application/pdf", b"A" * 10), ("说明.txt", "text/plain", "中文".encode())]
    assert formats.pack_content("99.90", {"b": "2", "a": "1"}, documents) == env.pack_content(
        Decimal("99.90"), {"a": "1", "b": "2"}, [Document(*d) for d in documents])
    assert formats.info("12", "标段", BIDDER_CODE) == sealing.info("12", "标段", BIDDER_CODE)


def test_eproc_bid_verifies_a_receipt_the_server_signs(tmp_path, demo_pki):
    key = sealing.generate()
    holder = write_bidder(tmp_path, demo_pki)
    data = formats.seal(formats.read_section_key(env.section_key_file(suite=key.suite, public_key=key.public,
                                                                      **SECTION)),
                        formats.pack_content("1.00", {}, []), holder.key, [holder.certificate])
    checked = env.check_envelope(data, section_public_key=key.public, bidder=BIDDER_CODE,
                                 anchors=demo_pki.anchors, now=demo_pki.now, **SECTION)
    receipt = env.sign_receipt(checked, sequence=3, received_at=demo_pki.now)
    (tmp_path / "receipt.json").write_bytes(receipt)
    (tmp_path / "seal.pem").write_text(seal.current("seal").certificate_pem)
    (tmp_path / "ca.pem").write_text(seal.current("ca").certificate_pem)
    (tmp_path / "bid.env").write_bytes(data)
    args = ["verify-receipt", str(tmp_path / "receipt.json"), "--certificate", str(tmp_path / "seal.pem"),
            "--ca", str(tmp_path / "ca.pem"), "--envelope", str(tmp_path / "bid.env")]
    assert cli.main(args) == 0
    body = formats.verify_receipt(receipt, pki.load_certificate(seal.current("seal").certificate_pem))
    assert body["sequence"] == 3 and body["envelope"]["sha256"] == hashlib.sha256(data).hexdigest()
    # A changed receipt, another envelope, another CA: refused (exit 2 with the reason).
    wrapper = json.loads(receipt)
    wrapper["body"] = wrapper["body"].replace('"sequence":3', '"sequence":2')
    (tmp_path / "forged.json").write_text(json.dumps(wrapper))
    assert cli.main(["verify-receipt", str(tmp_path / "forged.json"), "--certificate",
                     str(tmp_path / "seal.pem")]) == 2
    (tmp_path / "other.env").write_bytes(data + b"x")
    assert cli.main(args[:-1] + [str(tmp_path / "other.env")]) == 2
    (tmp_path / "other-ca.pem").write_text(pki.pem(demo_pki.ca))
    assert cli.main(args[:4] + ["--ca", str(tmp_path / "other-ca.pem")]) == 2


def test_submit_posts_the_envelope_to_the_bids_route_with_the_token(tmp_path):
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.update(path=self.path, headers=dict(self.headers),
                        body=self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"body": "receipt"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        (tmp_path / "bid.env").write_bytes(b"EPROCENV envelope bytes")
        code = cli.main(["submit", str(tmp_path / "bid.env"), "--url", f"http://127.0.0.1:{server.server_port}/",
                         "--section", "12", "--token", "tok-123", "--receipt-out", str(tmp_path / "r.json")])
    finally:
        server.shutdown()
    assert code == 0
    assert seen["path"] == "/api/v1/tender/sections/12/bids"
    assert seen["headers"]["Authorization"] == "Bearer tok-123"
    assert seen["headers"]["Content-Type"] == "application/octet-stream"
    assert seen["headers"]["Idempotency-Key"] == "envelope-" + hashlib.sha256(b"EPROCENV envelope bytes").hexdigest()
    assert seen["body"] == b"EPROCENV envelope bytes"
    assert (tmp_path / "r.json").read_bytes() == b'{"body": "receipt"}'


def test_eproc_bid_imports_nothing_of_the_server():
    for path in (BIDTOOL / "eproc_bid").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not {n.split(".")[0] for n in names} & SERVER_PACKAGES, f"{path.name} imports {names}"
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, eproc_bid.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"],
        cwd=BIDTOOL, capture_output=True, text=True, check=True).stdout
    assert not set(ast.literal_eval(loaded)) & (SERVER_PACKAGES | {"flask", "sqlalchemy"})


def test_eproc_bid_depends_only_on_cryptography_and_rfc8785():
    text = (BIDTOOL / "pyproject.toml").read_text()
    assert 'dependencies = ["cryptography>=48.0.0", "rfc8785>=0.1.4"]' in text
    assert 'eproc-bid = "eproc_bid.cli:main"' in text
