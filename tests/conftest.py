"""Fixtures: an app on a database made by the migrations, a clean database per test, and clients
signed in as any role.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set (each xdist worker
makes and drops a database of its own). Tests needing a service call ``require_service``: they skip
with a reason when it is absent, and fail instead when REQUIRE_SERVICES=1 (CI).
"""
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from celery._state import _set_task_join_will_block
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

FAST_PASSWORD_HASH = "pbkdf2:sha256:1000"  # production's scrypt is asserted in test_auth
CHEAP_KDF = {"iterations": 1, "memory_cost": 64, "lanes": 1}
os.environ.setdefault("CUSTODY_KDF", "1:64:1")  # for the servers and workers tests start


def require_service(name: str, available: bool, how: str) -> None:
    if available:
        return
    message = f"{name} is not available: {how}"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


def _postgres_url(worker: str) -> str | None:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id_str(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "gw0")


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("instance")
    os.environ["INSTANCE_PATH"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def database_url(instance_dir, worker_id_str):
    url = _postgres_url(worker_id_str)
    yield url or f"sqlite:///{instance_dir / 'test.sqlite'}"
    if url:
        _drop_postgres(url)


class FreshContextClient(FlaskClient):
    """Each request gets an application context of its own (fresh ``g`` and database session), as in
    production, although the test itself holds one. The test's pending work is committed first, so that
    the request sees it and no transaction of the test holds SQLite's write lock."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Tests read English unless they ask for Chinese (cookie lang=zh); the platform's default is Chinese.
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def open(self, *args, **kwargs):
        from core.extensions import db
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, instance_dir):
    from flask_migrate import upgrade

    from app import create_app
    from accounts import regions
    from core.extensions import db

    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "CUSTODY_KDF": CHEAP_KDF,  # production's Argon2id cost is asserted in tests/crypto/test_custody.py
        "OPENING_STREAM_SECONDS": 0,  # the hall's event stream sends the state once and ends
    })
    app.test_client_class = FreshContextClient
    app.extensions["celery"].conf.update(task_always_eager=True, task_eager_propagates=True)
    with app.app_context():
        upgrade()
        regions.load()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


KEEP = {"region", "alembic_version"}


def _clean(db) -> None:
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEEP]
    if db.engine.dialect.name == "postgresql":
        # The end-to-end tests' server may still be answering a request that reads these tables; TRUNCATE takes
        # its locks table by table, so PostgreSQL may break the deadlock by aborting the TRUNCATE: do it again.
        from psycopg.errors import DeadlockDetected
        from sqlalchemy.exc import OperationalError
        for attempt in range(5):
            try:
                db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
                break
            except OperationalError as error:
                db.session.rollback()
                if attempt == 4 or not isinstance(error.orig, DeadlockDetected):
                    raise
                time.sleep(0.2)
    else:
        for table in reversed(tables):
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.execute(text("INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, :zeros)"), {"zeros": "0" * 64})
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(app, instance_dir):
    """Every test runs in an app context on an empty database (regions kept)."""
    from core.extensions import db
    with app.app_context():
        yield
        db.session.rollback()
        _clean(db)
    for sub in ("mail", "documents"):
        shutil.rmtree(instance_dir / sub, ignore_errors=True)
    # Celery marks "inside a task" in one process-wide flag that each eager task sets and restores; eager
    # tasks run by racing threads (the concurrency tests) can restore it in the wrong order and leave it
    # set, after which every later result.get() in this process fails as "called within a task".
    _set_task_join_will_block(False)


@pytest.fixture
def db_session(app):
    from core.extensions import db
    return db.session


@pytest.fixture
def demo(app):
    """The demo organisations and users: {username: User}."""
    from accounts import demo as demo_data
    from core import clock
    from core.extensions import db
    users = {u.username: u for u in demo_data.load(clock.now())}
    for user in users.values():
        user.language = "en"  # tests read English (see FreshContextClient); the platform writes to each in theirs
    db.session.commit()
    # Load them now and end that read, so that no transaction of the test holds SQLite's write lock.
    _loaded = [(user.id, user.organisation_id) for user in users.values()]
    db.session.commit()
    return users


@pytest.fixture
def client(app):
    return app.test_client()


def totp_now(username: str, at=None) -> str:
    from accounts.auth import current_code
    from accounts.demo import USERS
    from core import clock
    return current_code({u[0]: u[4] for u in USERS}[username], at or clock.now())


@pytest.fixture
def login(app, demo):
    """login(username) -> a test client signed in as that demo user, through the real sign-in pages."""

    def _login(username: str):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": "demo-pass-2026"})
        assert response.status_code == 302, response.text
        if response.location.endswith("/login/code"):
            response = client.post("/login/code", data={"code": totp_now(username)})
            assert response.status_code == 302, response.text
        return client

    return _login


ROLE_USERS = {"admin": "admin", "centre": "centre", "procuring": "procuring", "bidder": "bidder1",
              "guarantor": "guarantor", "supplier": "supplier", "evaluator": "expert1", "supervisor": "supervisor"}


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
