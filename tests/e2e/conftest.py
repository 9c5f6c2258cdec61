"""Fixtures for real-browser tests: the real app served by gunicorn in a process of its own, and Debian's
Chromium driven by Playwright.

The server uses the test session's database (migrated by the ``app`` fixture) and the same instance
folder, so that it reads the same ``secrets.json``: the MASTER_KEY there decrypts the demo users'
TOTP secrets that the test process stored. Each test loads the demo data it signs in with (the
per-test cleanup empties the tables); the server only reads what is there at each request.
"""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 30  # seconds
TIMEOUT_MS = 15_000  # for each action and expectation: generous, for a machine busy with other tests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _is_favicon(url: str) -> bool:
    # The browser asks for /favicon.ico by itself; the platform has none yet (a 404), which is no
    # concern of this test.
    return url.split("?")[0].endswith("/favicon.ico")


@pytest.fixture(scope="module")
def live_server(app, instance_dir, tmp_path_factory):
    """The base URL of the real app, served by gunicorn on a free port on the loopback."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("live-server") / "gunicorn.log"
    env = {**os.environ,
           "INSTANCE_PATH": str(instance_dir),
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PLATFORM_TESTING": "1"}
    for name in ("CELERY_BROKER_URL", "SMTP_URL", "TESTING_CLOCK_FILE", "BASE_URL"):
        env.pop(name, None)  # mail goes to files, tasks to the instance folder's queue
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4",
             "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _answers(f"{base_url}/healthz"):
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /healthz in {SERVER_START_TIMEOUT} s:\n"
                            f"{log_path.read_text()}")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # Shown by pytest only when a test failed.
        print(f"--- server log ({log_path}) ---\n{log_path.read_text(errors='replace')}")


@pytest.fixture
def demo_users(demo):
    """The demo users, committed, with no transaction of the test left open: building ``demo``'s dict
    after its commit reloads the users, and on SQLite (BEGIN IMMEDIATE) that open transaction would
    hold the write lock the server needs to sign anyone in."""
    from core.extensions import db
    db.session.commit()
    return demo


@pytest.fixture(scope="module")
def browser():
    require_service("Chromium", CHROMIUM.exists(), "install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile (no cookies) asking for English, on the live server.

    ``page.problems`` collects what a person would not see but should never happen: script errors,
    console errors (a Content-Security-Policy refusal is one) and failed or 4xx/5xx sub-resources.
    """
    context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    watch_problems(page)
    yield page
    context.close()


def watch_problems(page) -> None:
    """``page.problems``: what a person would not see but should never happen: script errors, console errors
    (a Content-Security-Policy refusal is one) and failed or 4xx/5xx sub-resources."""
    problems = page.problems = []

    def on_console(message):
        if message.type == "error" and not _is_favicon(message.location.get("url", "")):
            problems.append(f"console: {message.text} ({message.location.get('url')})")

    def on_response(response):
        if response.status >= 400 and not _is_favicon(response.url):
            problems.append(f"HTTP {response.status}: {response.url}")

    def on_request_failed(request):
        # ERR_ABORTED: the page was left (a click or goto, or an event stream) before the request finished.
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"request failed: {request.url} {request.failure}")

    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
