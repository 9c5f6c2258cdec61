"""Tasks run by a real Celery worker process on Redis, as in production (elsewhere the suite runs them
eagerly, in the test's own process)."""
import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from accounts.models import LoginSession, token_digest
from core import clock
from core.extensions import db
from tests.conftest import require_service

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


def _redis_answers(url: str) -> bool:
    if not url:
        return False
    import redis
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class WorkerProcess:
    """A `celery -A worker worker` process consuming a queue of its own on the test's Redis database,
    so that no other worker on that database can take its tasks."""

    def __init__(self, broker_url: str, env: dict, log_path: Path):
        self.queue = f"test-worker-{uuid.uuid4().hex[:12]}"
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "worker", "worker", "--loglevel=INFO",
                 "--concurrency=1", "--pool=solo", "--queues", self.queue, "--hostname", f"{self.queue}@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # A plain client on the same broker: never eager, unlike the app fixture's Celery.
        self.client = Celery("test-client", broker=broker_url, set_as_current=False)

    def send(self, task: str, *args) -> None:
        self.client.send_task(task, args=args, queue=self.queue)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition, what: str) -> None:
        """Poll ``condition`` until it holds; fail early, with the worker's log, if the worker died."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode} before {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {WAIT_SECONDS} s; the worker's log:\n{self.log()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()  # a warm shutdown
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.client.close()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    require_service("Redis", _redis_answers(url),
                    "set TEST_REDIS_URL to a Redis database of the tests' own, e.g. redis://127.0.0.1:6379/15")
    return url


@pytest.fixture
def worker_process(app, instance_dir, redis_url, tmp_path):
    env = {**os.environ,
           "CELERY_BROKER_URL": redis_url,
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "INSTANCE_PATH": str(instance_dir),  # the same secrets.json as the tests
           "PLATFORM_TESTING": "1"}
    for name in ("SMTP_URL", "MAIL_FOLDER", "DOCUMENT_FOLDER", "TESTING_CLOCK_FILE"):
        env.pop(name, None)  # mail goes to <INSTANCE_PATH>/mail
    worker = WorkerProcess(redis_url, env, tmp_path / "worker.log")
    yield worker
    worker.stop()
    import redis
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"*{worker.queue}*"):  # whatever the worker's queue left behind
        client.delete(key)
    client.close()
    print(f"--- worker log ({worker.log_path}) ---\n{worker.log()}")  # shown when the test failed


def _login_session_count(*ids: int) -> int:
    count = db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.id.in_(ids)))
    db.session.commit()  # hold no transaction while the worker writes (SQLite begins them IMMEDIATE)
    return count


def test_a_real_worker_sends_mail_and_does_the_housekeeping(worker_process, instance_dir, demo):
    # Mail: with no SMTP server the worker writes each message as a file under <INSTANCE_PATH>/mail.
    subject = f"Worker check 测试 {uuid.uuid4().hex[:8]}"
    mail_folder = instance_dir / "mail"
    worker_process.send("core.tasks.send_mail", "bidder@example.cn", subject, "正文 body")

    def our_message():
        for path in mail_folder.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["Subject"] == subject:
                return message
        return None

    worker_process.wait_for(lambda: our_message() is not None, "mail file")
    message = our_message()
    assert message["To"] == "bidder@example.cn"
    assert message.get_content().strip() == "正文 body"

    # Housekeeping forgets the expired session and keeps the live one.
    now = clock.now()
    user = demo["bidder1"]
    expired, live = (LoginSession(token_digest=token_digest(uuid.uuid4().hex), user_id=user.id, created_at=at,
                                  last_seen_at=at, expires_at=at + timedelta(hours=2))
                     for at in (now - timedelta(hours=3), now))
    db.session.add_all([expired, live])
    db.session.flush()
    expired_id, live_id = expired.id, live.id
    db.session.commit()
    worker_process.send("accounts.tasks.housekeeping")
    worker_process.wait_for(lambda: _login_session_count(expired_id) == 0, "deletion of the expired session")
    assert _login_session_count(live_id) == 1
    assert "accounts.tasks.housekeeping" in worker_process.log()


def test_the_test_clock_offset_moves_time_in_the_worker_process(app, instance_dir, redis_url, demo, tmp_path):
    """Tests that span processes move time with TESTING_CLOCK_FILE, never by sleeping out a deadline."""
    clock_file = tmp_path / "clock-offset"
    clock.set_test_offset(clock_file, 3 * 3600)  # the worker lives three hours ahead
    env = {**os.environ, "CELERY_BROKER_URL": redis_url, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "INSTANCE_PATH": str(instance_dir), "PLATFORM_TESTING": "1", "TESTING_CLOCK_FILE": str(clock_file)}
    now = clock.now()
    session = LoginSession(token_digest=token_digest(uuid.uuid4().hex), user_id=demo["bidder1"].id, created_at=now,
                           last_seen_at=now, expires_at=now + timedelta(hours=2))  # alive for two more hours
    db.session.add(session)
    db.session.flush()
    session_id = session.id
    db.session.commit()
    worker = WorkerProcess(redis_url, env, tmp_path / "worker.log")
    try:
        worker.send("accounts.tasks.housekeeping")
        worker.wait_for(lambda: _login_session_count(session_id) == 0, "deletion by the worker's moved clock")
    finally:
        worker.stop()
