"""A procuring unit, a centre reviewer and a bidder carry a project from registration to a published notice
in a real browser: the unit in English, the centre in Chinese; every refusal on the way is explained."""
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from sqlalchemy import select

from core import clock
from core.extensions import db
from tender import checklists
from tests.conftest import totp_now

PASSWORD = "demo-pass-2026"


@pytest.fixture
def person(browser, live_server):
    """person(username, language) -> a signed-in page in a browser profile of its own."""
    contexts = []

    def _person(username: str, language: str = "en"):
        context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("#login-form").get_by_role("button", name="Sign in").click()
        if username == "centre":
            page.get_by_label("6-digit code").fill(totp_now(username))
            page.locator("#code-form").get_by_role("button", name="Continue").click()
        expect(page.locator("#logout")).to_be_visible()
        if language == "zh":
            page.locator("#language-form button[value=zh]").click()
            expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        return page

    yield _person
    for context in contexts:
        context.close()


def upload(page, item_label: str, path):
    page.locator("#document-item").select_option(label=item_label)
    page.locator("#document-file").set_input_files(path)
    page.locator("#document-form button").click()
    expect(page.locator(".alert-success")).to_contain_text(path.name)


@pytest.mark.e2e
def test_from_registration_to_a_published_notice(app, demo_users, person, page, tmp_path):
    documents = {}
    for item in checklists.checklist("works"):
        documents[item.key] = tmp_path / f"{item.key}.pdf"
        documents[item.key].write_bytes(b"%PDF-1.4\n% " + item.key.encode() + b"\n")
    virus = tmp_path / "invoice.exe"
    virus.write_bytes(b"MZ\x90\x00")

    # The procuring unit registers the project, its section and its documents (English).
    unit = person("procuring")
    unit.goto("/tender/")
    unit.get_by_role("link", name="Register a project").click()
    unit.get_by_label("Project name").fill("南京市第二中学操场改造")
    unit.get_by_label("Category").select_option("works")
    unit.get_by_role("button", name="Register the project").click()
    expect(unit.locator("main h1")).to_contain_text("南京市第二中学操场改造")
    unit.get_by_label("Section name").fill("施工标段")
    unit.get_by_label("Control price or budget (yuan)").fill("3000000")
    unit.get_by_label(re.compile("Bid guarantee required")).fill("80000")
    unit.get_by_role("button", name="Add the section").click()
    expect(unit.locator(".alert-danger")).to_contain_text("may not exceed 2%")
    unit.get_by_label(re.compile("Bid guarantee required")).fill("60000")
    unit.get_by_role("button", name="Add the section").click()
    expect(unit.locator("#sections")).to_contain_text("施工标段")
    unit.locator("#document-file").set_input_files(virus)
    unit.locator("#document-form button").click()
    expect(unit.locator(".alert-danger")).to_contain_text("Files of this type are not accepted")
    with app.test_request_context(headers={"Accept-Language": "en"}):  # the labels as the unit reads them
        labels = {i.key: str(i.label) for i in checklists.checklist("works")}
    for key, path in documents.items():
        upload(unit, labels[key], path)
    unit.locator("#submit-project").click()
    expect(unit.locator("main h1")).to_contain_text("submitted for acceptance")

    # The centre reviews in Chinese: one defective item sends it back, with the finding named.
    centre = person("centre", "zh")
    centre.goto("/tender/acceptance")
    centre.locator("#queue").get_by_role("link").first.click()
    centre.locator("#v-drawings-defective").check()
    centre.locator("#return").click()
    expect(centre.locator(".alert-danger")).to_contain_text("请说明以下事项存在的问题")  # a defective item needs a note
    centre.locator("#v-drawings-defective").check()
    centre.locator("#note-drawings").fill("图审合格书缺少盖章页")
    centre.locator("#return").click()
    expect(centre.locator(".alert-success")).to_contain_text("已退回采购人")

    # The unit sees what to put right, supplies it and submits again.
    unit.reload()
    expect(unit.locator("#findings")).to_contain_text("图审合格书缺少盖章页")
    upload(unit, labels["drawings"], documents["drawings"])
    unit.locator("#submit-project").click()
    expect(unit.locator("main h1")).to_contain_text("submitted for acceptance")

    # The centre accepts and publishes; a deadline too soon is refused with the earliest allowed.
    centre.goto("/tender/acceptance")
    centre.locator("#queue").get_by_role("link").first.click()
    centre.locator("#accept").click()
    expect(centre.locator(".alert-success")).to_contain_text("已受理")
    centre.goto(urlsplit(unit.url).path)
    centre.locator("#sections").get_by_role("link").first.click()
    soon = clock.local(clock.now()) + timedelta(days=5)
    centre.locator("#deadline").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    centre.locator("#body").fill("本项目已具备招标条件，现进行公开招标。")
    centre.locator("#documents").set_input_files(documents["tender_documents"])
    centre.locator("#publish").click()
    expect(centre.locator(".alert-danger")).to_contain_text("至少 20 个日历日")
    later = (clock.local(clock.now()) + timedelta(days=22)).replace(hour=9, minute=30)
    centre.locator("#deadline").fill(later.strftime("%Y-%m-%dT%H:%M"))
    centre.locator("#documents").set_input_files(documents["tender_documents"])
    centre.locator("#publish").click()
    expect(centre.locator(".alert-success")).to_contain_text("已发布")
    expect(centre.locator("#deadline")).to_have_text(later.strftime("%Y-%m-%d 09:30"))

    # A bidder finds it on the public board, signs in, registers and downloads the documents.
    page.goto("/tender/notices")
    page.locator("#q").fill("操场")
    page.get_by_role("button", name="Search").click()
    page.locator("#notices").get_by_role("link", name="施工标段").click()
    expect(page.locator("#download-hint")).to_be_visible()
    bidder = person("bidder1")
    bidder.goto(urlsplit(page.url).path)
    bidder.locator("#register").click()
    expect(bidder.locator("#registered")).to_be_visible()
    with bidder.expect_download() as download:
        bidder.get_by_role("link", name="tender_documents.pdf").click()
    assert download.value.suggested_filename == "tender_documents.pdf"

    # It seals a bid with its tool (here the same code) and uploads the envelope; the receipt proves it.
    from pathlib import Path

    from tender.models import Section
    from tests.tender.factories import BidderPki
    section = db.session.scalar(select(Section).where(Section.name == "施工标段"))
    envelope_file = tmp_path / "bid.env"
    envelope_file.write_bytes(BidderPki(app, Path(app.config["TRUST_STORE_DIR"])).seal(section, demo_users["bidder1"]))
    db.session.commit()
    bidder.locator("#my-bid").click()
    bidder.locator("#envelope-form input[type=file]").set_input_files(envelope_file)
    bidder.locator("#submit-envelope").click()
    expect(bidder.locator(".alert-success")).to_contain_text("Keep the receipt")
    expect(bidder.locator("#bid-history")).to_contain_text("current")
    with bidder.expect_download() as receipt:
        bidder.locator("#bid-history").get_by_role("link", name="Receipt").click()
    assert receipt.value.suggested_filename.startswith("receipt-")
    assert page.problems == []
