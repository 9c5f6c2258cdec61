"""The journal audit as a supervisor sees it: entries, a verification with its verdict, checkpoints, export."""
import json

from sqlalchemy import select, text

from core import clock, journal
from core.extensions import db
from core.models import JournalEntry, JournalVerification


def test_a_supervisor_browses_the_journal_and_opens_an_entry(login, demo):
    supervisor = login("supervisor")
    page = supervisor.get("/supervision/journal")
    assert page.status_code == 200
    assert "user.signed_in" in page.text and "财政局监督 郑华" in page.text
    first = supervisor.get("/supervision/journal/1")
    assert first.status_code == 200 and "0" * 64 in first.text  # the first entry follows the all-zero hash
    signed_in = db.session.scalar(select(JournalEntry.seq).where(JournalEntry.action == "user.signed_in"))
    entry = supervisor.get(f"/supervision/journal/{signed_in}")
    assert entry.status_code == 200 and "user.signed_in" in entry.text


def test_a_verification_runs_and_shows_its_verdict(login, demo):
    supervisor = login("supervisor")
    answer = supervisor.post("/supervision/journal/verifications")
    assert answer.status_code == 302
    run = db.session.scalars(db.select(JournalVerification)).one()
    assert run.status == "passed"  # Celery is eager in tests; a real worker runs it in production
    status = supervisor.get(f"/supervision/journal/verifications/{run.id}.json").json
    assert status["status"] == "passed" and status["checked"] == status["total"] > 0
    assert "The journal verifies" in supervisor.get(answer.location).text


def test_a_failed_verification_names_the_entry(login, demo):
    supervisor = login("supervisor")
    db.session.execute(text("UPDATE journal_entry SET ip_address = '10.6.6.6' WHERE seq = 1"))
    db.session.commit()
    answer = supervisor.post("/supervision/journal/verifications")
    page = supervisor.get(answer.location).text
    assert "failed at entry 1" in page and "column_mismatch" in page and "ip_address" in page
    assert "a column disagrees with the entry" in page  # in words, not only the code


def test_a_checkpoint_is_signed_on_demand_and_the_export_verifies_without_our_code(login, demo):
    """What docs/formats.md promises: the export and the seal certificate are enough."""
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    supervisor = login("supervisor")
    assert supervisor.post("/supervision/journal/checkpoints").status_code == 302
    lines = [json.loads(line) for line in supervisor.get("/supervision/journal/export.jsonl").text.splitlines()]
    entries = [x for x in lines if x["type"] == "entry"]
    prev = "0" * 64
    for entry in entries:
        body = json.loads(entry["body"])
        assert body["prev"] == prev and body["seq"] == entry["seq"]
        prev = hashlib.sha256(entry["body"].encode()).hexdigest()
        assert prev == entry["hash"]
    checkpoint = [x for x in lines if x["type"] == "checkpoint"][-1]
    signed = json.loads(checkpoint["body"])
    assert signed["head"] == entries[signed["seq"] - 1]["hash"]
    certificate = x509.load_pem_x509_certificate(supervisor.get("/seal/certificate.pem").data)
    certificate.public_key().verify(bytes.fromhex(checkpoint["signature"]), checkpoint["body"].encode(),
                                    ec.ECDSA(hashes.SHA256()))
    assert hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest() == signed["certificate"]


def test_the_beat_task_signs_only_when_the_head_moved(app, demo):
    from core.tasks import journal_checkpoint
    journal.record("test.event", "thing", 1, now=clock.now())
    db.session.commit()
    first = journal_checkpoint.delay().get()
    assert first == journal.head()[0]
    db.session.commit()  # end the test's read transaction: SQLite has one writer at a time
    assert journal_checkpoint.delay().get() is None


def test_bidders_cannot_see_the_journal(login, demo):
    assert login("bidder1").get("/supervision/journal").status_code == 403


def test_the_verifier_in_docs_formats_runs_on_a_real_export(login, demo, tmp_path, monkeypatch, capsys):
    import re
    from pathlib import Path
    supervisor = login("supervisor")
    supervisor.post("/supervision/journal/checkpoints")
    (tmp_path / "journal.jsonl").write_bytes(supervisor.get("/supervision/journal/export.jsonl").data)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "formats.md", "exec"), {})
    assert "journal verifies:" in capsys.readouterr().out


def test_an_unreachable_broker_is_reported_not_a_500(login, demo, monkeypatch):
    from supervision import journal_views

    def broker_down(*_args):
        raise OSError("connection refused")
    monkeypatch.setattr(journal_views.verify_journal, "delay", broker_down)
    supervisor = login("supervisor")
    answer = supervisor.post("/supervision/journal/verifications")
    assert answer.status_code == 302
    assert "stopped with an error" in supervisor.get(answer.location).text


def test_every_reason_code_of_the_verifier_is_explained_in_words():
    import re
    from pathlib import Path
    source = (Path(__file__).resolve().parents[2] / "core" / "journal.py").read_text()
    codes = set(re.findall(r'Verdict\([^,]+, [^,]+, "([a-z_]+)"', source))
    assert codes and codes == set(journal.REASONS)


def assert_streams_one_snapshot_holding_up_no_writer(app, path: str) -> None:
    """A download may last minutes: meanwhile the platform goes on writing (on SQLite every other transaction
    takes the write lock), and the file stays what the journal was when the download began. The download runs
    as a server runs it: in a thread of its own, the request's context kept until the body is sent."""
    import threading

    from flask.testing import FlaskClient

    from core import clock, journal
    from tests.conftest import totp_now
    client = FlaskClient(app, app.response_class, use_cookies=True)  # not the tests' client: no context of ours
    client.post("/login", data={"username": "supervisor", "password": "demo-pass-2026"})
    assert client.post("/login/code", data={"code": totp_now("supervisor")}).status_code == 302
    db.session.commit()  # signing in ran in this test's context: end its transaction
    begun, written, body = threading.Event(), threading.Event(), []

    def download():
        try:
            response = client.get(path)
            assert response.status_code == 200, response.status
            chunks = iter(response.response)
            body.append(next(chunks))  # the download has begun: its snapshot is taken
        except BaseException as error:  # noqa: BLE001 - reported by the test
            body.append(error)
        begun.set()
        written.wait(30)
        body.extend(chunks)

    downloading = threading.Thread(target=download)
    downloading.start()
    assert begun.wait(30) and not isinstance(body[0], BaseException), body
    head_before = journal.head()[0]
    journal.record("test.meanwhile", "test", 1, {"n": 1}, now=clock.now())
    db.session.commit()  # a writer meanwhile: neither refused nor kept waiting
    written.set()
    downloading.join(30)
    assert journal.head()[0] == head_before + 1
    lines = [json.loads(line) for line in b"".join(body).decode().splitlines()]
    assert any(x["type"] == "entry" for x in lines)
    assert all(json.loads(x["body"])["action"] != "test.meanwhile" for x in lines if x["type"] == "entry")
    assert all(x["seq"] <= head_before for x in lines if x["type"] in ("entry", "withheld"))


def test_the_export_streams_one_snapshot_and_holds_up_no_writer(app, demo):
    assert_streams_one_snapshot_holding_up_no_writer(app, "/supervision/journal/export.jsonl")


def test_the_command_line_export_is_the_pages(app, login, demo, tmp_path):
    supervisor = login("supervisor")
    page = supervisor.get("/supervision/journal/export.jsonl").data
    result = app.test_cli_runner().invoke(args=["journal", "export", str(tmp_path / "journal.jsonl")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "journal.jsonl").read_bytes() == page
