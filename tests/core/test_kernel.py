"""The kernel's promises: schema only from migrations, clock rules, the document store, secret boxes."""
import pytest

from core import clock, storage
from core.crypto import secretbox


def test_models_and_migrations_agree(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.extensions import db
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_the_clock_is_utc_and_aware():
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0
    assert clock.local(moment).utcoffset().total_seconds() == 8 * 3600


def test_a_test_clock_offset_moves_time(tmp_path):
    path = tmp_path / "offset"
    clock.set_test_offset(path, 3600)
    clock.use_offset_file(str(path))
    try:
        moved = clock.now()
    finally:
        clock.use_offset_file(None)
    assert 3590 < (moved - clock.now()).total_seconds() < 3610


def test_production_refuses_a_test_clock_offset(monkeypatch, tmp_path):
    from app import create_app
    monkeypatch.setenv("TESTING_CLOCK_FILE", str(tmp_path / "offset"))
    monkeypatch.delenv("PLATFORM_TESTING", raising=False)
    with pytest.raises(RuntimeError, match="tests only"):
        create_app()


def test_documents_are_stored_by_content_and_checked_on_read(app):
    digest = storage.put("招标文件".encode())
    assert storage.get(digest) == "招标文件".encode()
    path = storage._path(digest)
    path.write_bytes(b"tampered")
    with pytest.raises(OSError, match="corrupted"):
        storage.get(digest)
    # The same document stored again repairs the damaged copy instead of trusting its name.
    assert storage.put("招标文件".encode()) == digest
    assert storage.get(digest) == "招标文件".encode()


def test_a_secret_box_opens_only_with_its_purpose_and_key(app):
    box = secretbox.seal(b"seed", "totp:1")
    assert secretbox.open_(box, "totp:1") == b"seed"
    with pytest.raises(ValueError):
        secretbox.open_(box, "totp:2")
    original = app.config["MASTER_KEY"]
    app.config["MASTER_KEY"] = bytes(32)
    try:
        with pytest.raises(ValueError):
            secretbox.open_(box, "totp:1")
    finally:
        app.config["MASTER_KEY"] = original


def test_error_pages_say_what_went_wrong(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "not_found" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_csrf_is_required_on_forms(app, demo):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        refused = client.post("/login", data={"username": "bidder1", "password": "demo-pass-2026"})
        assert refused.status_code == 400 and "csrf_failed" in refused.text
        from tests.conftest import csrf_token_from
        token = csrf_token_from(client.get("/login").text)
        ok = client.post("/login", data={"username": "bidder1", "password": "demo-pass-2026", "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_language_and_care_mode_switches_remember_the_choice(client):
    answer = client.post("/language", data={"lang": "en", "next": "/login"})
    assert answer.status_code == 302 and answer.location == "/login"
    assert '<html lang="en"' in client.get("/login").text
    client.post("/care-mode", data={"next": "/login"})
    assert 'class="care-mode"' in client.get("/login").text


def test_switches_never_send_a_person_to_another_site(client):
    answer = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert answer.location == "/"


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(app, monkeypatch, database_url):
    from app import create_app
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    try:
        proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    finally:  # a second app makes its Celery the default: give the suite's (eager) one back
        app.extensions["celery"].set_default()
        app.extensions["celery"].set_current()

    @proxied.get("/test-address")
    def address():
        from flask import request
        return request.remote_addr

    answer = proxied.test_client().get("/test-address", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.text == "203.0.113.7"
