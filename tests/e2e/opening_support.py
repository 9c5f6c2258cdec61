"""What the browser tests of openings share: gunicorn and a real Celery worker reading one clock file that the
test moves (``stack``), people signed in each in a browser profile of their own (``person``), and a published
section with bids sealed and submitted by the bidder's tool.

Test modules import the fixtures ``stack`` and ``person`` by name (pytest finds fixtures in the module's
namespace); each module gets its own servers (module scope).
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from accounts import tokens
from core import clock
from core.extensions import db
from tender import checklists, participation, projects, publication
from tests.conftest import totp_now
from tests.e2e.conftest import ROOT, SERVER_START_TIMEOUT, TIMEOUT_MS, _answers, watch_problems
from tests.tender.factories import (PDF, SECTION, BidderPki, GuarantorPki, accept, issue_guarantee, make_guarantor,
                                    publish)

PASSWORD = "demo-pass-2026"
PIN = "demo-pin-2026"
TOOL = [sys.executable, "-m", "eproc_bid.cli"]
WORKER_START_TIMEOUT = 60  # seconds
SECOND_FACTOR = {"centre", "supervisor", "admin"}
NAMES = {"bidder1": "江苏华建建设工程有限公司", "bidder2": "南京宏远市政工程有限公司", "bidder3": "苏州恒通智能科技有限公司"}


# The servers: gunicorn and a Celery worker, sharing the test's database, instance folder and clock file.

def _wait_for(process, log_path: Path, ready, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} was not ready in {timeout} s:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)


def _stop(process, log_path: Path, what: str) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    print(f"--- {what} log ({log_path}) ---\n{log_path.read_text(errors='replace')}")  # shown when a test failed


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as v6:
            v6.bind(("::1", 0))
        return True
    except OSError:  # no IPv6 on this machine (or none on its loopback)
        return False


def _free_port_on_both_loopbacks(ipv6: bool) -> int:
    """A port free on 127.0.0.1 and (where the machine has it) on ::1 alike, so the server answers on both."""
    while True:
        with socket.socket() as v4, socket.socket(socket.AF_INET6) as v6:
            v4.bind(("127.0.0.1", 0))
            port = v4.getsockname()[1]
            if not ipv6:
                return port
            try:
                v6.bind(("::1", port))
            except OSError:
                continue  # taken there: another port
            return port


class Stack:
    def __init__(self, url: str, clock_file: Path, url_v6: str | None):
        self.url, self.clock_file = url, clock_file
        # The same server on the IPv6 loopback: a request there comes from another address (::1), as from
        # another machine; nothing is trusted from the request's headers. None where the machine has no IPv6.
        self.url_v6 = url_v6

    def move_clock(self, to: datetime) -> None:
        """Every process (server, worker, this test) now reads ``to`` as the current time."""
        clock.set_test_offset(self.clock_file, (to - datetime.now(timezone.utc)).total_seconds())

    def fetch(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return response.read()


@pytest.fixture(scope="module")
def stack(app, instance_dir, browser, tmp_path_factory):
    """gunicorn serving the app and `celery -A worker worker` running its tasks from the instance folder's
    filesystem broker, both reading the clock file this module moves (this process too)."""
    folder = tmp_path_factory.mktemp("opening-stack")
    clock_file = folder / "clock-offset"
    clock.set_test_offset(clock_file, 0)
    ipv6 = _has_ipv6_loopback()
    port = _free_port_on_both_loopbacks(ipv6)
    env = {**os.environ, "INSTANCE_PATH": str(instance_dir), "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PLATFORM_TESTING": "1", "TESTING_CLOCK_FILE": str(clock_file), "CUSTODY_KDF": "1:64:1"}
    for name in ("CELERY_BROKER_URL", "SMTP_URL", "BASE_URL", "TRUST_STORE_DIR"):
        env.pop(name, None)  # the instance folder's queue, mail folder and trust store
    server_log, worker_log = folder / "gunicorn.log", folder / "worker.log"
    # Threads enough for every hall's event stream (one each, reconnecting every 15 s) and the pages' requests.
    with open(server_log, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "16", "--bind", f"127.0.0.1:{port}",
             *(["--bind", f"[::1]:{port}"] if ipv6 else []), "--no-control-socket", "--access-logfile", "-",
             "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with open(worker_log, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    clock.use_offset_file(str(clock_file))
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(server, server_log, lambda: _answers(f"{url}/healthz"), "the server", SERVER_START_TIMEOUT)
        _wait_for(worker, worker_log, lambda: b" ready." in worker_log.read_bytes(), "the worker",
                  WORKER_START_TIMEOUT)
        yield Stack(url, clock_file, f"http://[::1]:{port}" if ipv6 else None)
    finally:
        clock.use_offset_file(None)
        _stop(server, server_log, "server")
        _stop(worker, worker_log, "worker")


@pytest.fixture
def person(browser, stack):
    """person(username) -> a page signed in as that demo user, in a browser profile of its own (English).
    ``page.problems`` collects script and console errors and failed or 4xx/5xx requests."""
    contexts, last_step = [], {}

    def _person(username: str):
        context = browser.new_context(base_url=stack.url, locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch_problems(page)
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("#login-form").get_by_role("button", name="Sign in").click()
        if username in SECOND_FACTOR:
            # A code is taken once: a second sign-in of the same person uses the next step's code (the
            # platform allows one step of drift).
            step = max(int(clock.now().timestamp()) // 30, last_step.get(username, -1) + 1)
            last_step[username] = step
            page.get_by_label("6-digit code").fill(totp_now(username, datetime.fromtimestamp(step * 30, timezone.utc)))
            page.locator("#code-form").get_by_role("button", name="Continue").click()
        expect(page.locator("#logout")).to_be_visible()
        return page

    yield _person
    for context in contexts:
        context.close()


def flashed(page, text: str) -> None:
    expect(page.locator(".alert-success")).to_contain_text(text)


def download(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


# The section, the guarantees and the bids (the bidder's tool, as a bidder runs it).

def published_section(demo, name: str, evaluation_method: str):
    """A works section of the procuring unit, accepted and published by the centre (deadline in 21 days)."""
    unit, now = demo["procuring"], clock.now()
    project = projects.create(unit, name=name, category="works", region_code="320100", green_channel=False,
                              green_channel_reason="", now=now,
                              sections=[{**SECTION, "name": f"{name} 1标段", "evaluation_method": evaluation_method}])
    for item in checklists.checklist("works"):
        projects.add_document(unit, project, item.key, f"{item.key}.pdf", PDF + item.key.encode(), now)
    projects.submit(unit, project, now)
    accept(demo["centre"], project)
    section = project.sections[0]
    publish(demo["centre"], section)
    return section


def tool(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*TOOL, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def bid_with_the_tool(app, stack, demo, section, prices: dict, folder: Path, untrusted: set = frozenset(),
                      urls: dict | None = None) -> dict:
    """Each bidder in ``prices`` registers, gets a guarantee (from a CA outside the trust store for those in
    ``untrusted``), then seals and submits its bid with `eproc-bid` to the server at ``urls[bidder]`` (by default
    ``stack.url``). Returns {bidder: (envelope, receipt)}."""
    now = clock.now()
    guarantor = make_guarantor("南京测试融资担保有限公司", f"91320100MA1H{section.id:05d}")
    trusted, stranger = GuarantorPki(now), GuarantorPki(now)
    trusted.install()
    bidder_pki = BidderPki(app, Path(app.config["TRUST_STORE_DIR"]))  # the folder the servers read
    secrets = {}
    for name in prices:
        user = demo[name]
        participation.register(user, section, now)
        issue_guarantee(guarantor, section, user.organisation, stranger if name in untrusted else trusted)
        key, certificate = bidder_pki.holder(user)
        (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                               serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
        (folder / f"{name}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        secrets[name] = tokens.create(user, "eproc-bid", 30, now)[1]
    section_id = section.id
    db.session.commit()

    (folder / "section.key.json").write_bytes(stack.fetch(f"/tender/sections/{section_id}/key"))
    bids = {}
    for name, price in prices.items():
        document = folder / f"{name}-proposal.pdf"
        document.write_bytes(b"%PDF-1.4 technical proposal of " + name.encode())
        envelope, receipt = folder / f"{name}.env", folder / f"{name}-receipt.json"
        tool("seal", "--section-key", str(folder / "section.key.json"), "--key", str(folder / f"{name}.key"),
             "--certificate", str(folder / f"{name}.pem"), "--price", price, "--term", "工期=180天",
             "--document", str(document), "--out", str(envelope))
        tool("submit", "--url", (urls or {}).get(name, stack.url), "--section", str(section_id),
             "--token", secrets[name], "--receipt-out", str(receipt), str(envelope))
        bids[name] = (envelope.read_bytes(), receipt.read_bytes())
    return bids


def pass_the_deadline(stack, section) -> None:
    """The servers' clock goes a minute past the deadline and the section closes (beat's job)."""
    deadline = section.deadline
    stack.move_clock(deadline + timedelta(minutes=1))
    publication.close_due(clock.now())
    db.session.commit()


def hall_of(section_id: int) -> str:
    return f"/tender/sections/{section_id}/opening"


def start_and_release(person, hall: str):
    """The centre starts the opening; the centre and a supervisor release their shares from their own pages;
    the worker decides every bid. Returns the centre's page, on the hall."""
    centre = person("centre")
    centre.goto(hall)
    centre.locator("#start-opening").click()
    flashed(centre, "The opening has started")
    keyholder = person("supervisor")
    for page in (centre, keyholder):
        page.goto(hall)
        release_share(page)
    expect(centre.locator("#opening-status")).to_have_text("decrypted")
    return centre


def release_share(page) -> None:
    """The keyholder on the hall's page releases its share with its PIN."""
    page.get_by_label("Your opening-key PIN").fill(PIN)
    page.locator("#release-share").click()
    flashed(page, "Your share is released")


def release_shares_watched(person, centre, hall: str, watcher):
    """The centre (on the hall), then a supervisor from a page of its own, release their shares; the watcher's
    hall, never reloaded, shows each release as it happens. Returns the supervisor keyholder's page."""
    release_share(centre)
    expect(watcher.locator("#keyholders li[data-role=centre]")).to_contain_text("released")
    expect(watcher.locator("#keyholders li[data-role=supervisor]")).to_contain_text("waiting")
    keyholder = person("supervisor")
    keyholder.goto(hall)
    release_share(keyholder)
    expect(watcher.locator("#keyholders li[data-role=supervisor]")).to_contain_text("released")
    return keyholder


def credit_codes(demo) -> dict:
    """The bidders' credit codes, read now: the test must hold no transaction while the servers write (on
    SQLite a read of the test would keep their writes waiting)."""
    codes = {name: demo[name].organisation.credit_code for name in NAMES}
    db.session.commit()
    return codes


def row_of(page, credit_code: str):
    return page.locator(f"#results tbody tr[data-bidder='{credit_code}']")

