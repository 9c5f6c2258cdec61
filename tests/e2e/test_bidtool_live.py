"""The bidder's tool against the real server: download the section's key, seal a bid with the bidder's
certificate, submit it through the API and verify the receipt offline with the platform's certificates."""
import subprocess
import sys
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from accounts import tokens
from core import clock
from core.extensions import db
from tender import participation, projects
from tender.models import Bid
from tests.tender.factories import BidderPki, accept, make_project, publish

TOOL = [sys.executable, "-m", "eproc_bid.cli"]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*TOOL, *args], capture_output=True, text=True, timeout=60)


def test_seal_submit_and_verify_with_the_bidding_tool(app, demo_users, live_server, tmp_path):
    demo = demo_users
    project = make_project(demo["procuring"], name="工具投标项目")
    projects.submit(demo["procuring"], project, clock.now())
    accept(demo["centre"], project)
    section = project.sections[0]
    publish(demo["centre"], section)
    participation.register(demo["bidder1"], section, clock.now())
    pki = BidderPki(app, Path(app.config["TRUST_STORE_DIR"]))  # the server reads the same instance folder
    key, certificate = pki.holder(demo["bidder1"])
    _token, secret = tokens.create(demo["bidder1"], "eproc-bid", 30, clock.now())
    section_id, code = section.id, section.code
    db.session.commit()

    (tmp_path / "bidder.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    (tmp_path / "bidder.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "section.key.json").write_bytes(fetch(f"{live_server}/tender/sections/{section_id}/key"))
    (tmp_path / "seal.pem").write_bytes(fetch(f"{live_server}/seal/certificate.pem"))
    (tmp_path / "ca.pem").write_bytes(fetch(f"{live_server}/seal/ca.pem"))
    (tmp_path / "bid.pdf").write_bytes(b"%PDF-1.4 technical proposal")

    sealed = tool("seal", "--section-key", str(tmp_path / "section.key.json"), "--key", str(tmp_path / "bidder.key"),
                  "--certificate", str(tmp_path / "bidder.pem"), "--price", "1234567.80", "--term", "工期=180天",
                  "--document", str(tmp_path / "bid.pdf"), "--out", str(tmp_path / "bid.env"))
    assert sealed.returncode == 0, sealed.stderr
    assert b"technical proposal" not in (tmp_path / "bid.env").read_bytes()
    submitted = tool("submit", "--url", live_server, "--section", str(section_id), "--token", secret,
                     "--receipt-out", str(tmp_path / "receipt.json"), str(tmp_path / "bid.env"))
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    verified = tool("verify-receipt", "--certificate", str(tmp_path / "seal.pem"), "--ca", str(tmp_path / "ca.pem"),
                    "--envelope", str(tmp_path / "bid.env"), str(tmp_path / "receipt.json"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert code in verified.stdout
    bid = db.session.query(Bid).one()
    assert bid.section_id == section_id and bid.user_agent.startswith("eproc-bid/")
    # A changed byte in the receipt does not verify.
    receipt = (tmp_path / "receipt.json").read_text()
    forged_text = receipt.replace('"sequence\\":1', '"sequence\\":2')
    assert forged_text != receipt
    (tmp_path / "forged.json").write_text(forged_text)
    forged = tool("verify-receipt", "--certificate", str(tmp_path / "seal.pem"), str(tmp_path / "forged.json"))
    assert forged.returncode != 0
