"""A person in a real browser: each role signs in (with the second step where the role needs it), lands
on its home page, switches language both ways, turns on care mode and signs out."""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ROLE_USERS, totp_now

PASSWORD = "demo-pass-2026"
SECOND_FACTOR = {"admin", "centre", "supervisor"}

# The heading of each role's home page, in English and in Chinese.
HEADINGS = {
    "admin": ("Administration", "系统管理"),
    "centre": ("Tendering", "招标投标"),
    "procuring": ("Tendering", "招标投标"),
    "bidder": ("Tendering", "招标投标"),
    "guarantor": ("Tendering", "招标投标"),
    "evaluator": ("Tendering", "招标投标"),
    "supplier": ("Online mall", "网上商城"),
    "supervisor": ("Supervision", "监督管理"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_role_signs_in_switches_language_and_care_mode(role, app, demo_users, page, tmp_path):
    username = ROLE_USERS[role]
    english, chinese = HEADINGS[role]
    html, heading = page.locator("html"), page.locator("main h1")

    # Sign in, in English (the browser asks for it).
    page.goto("/login")
    expect(html).to_have_attribute("lang", "en")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-form").get_by_role("button", name="Sign in").click()
    if username in SECOND_FACTOR:
        expect(page).to_have_url(re.compile(r"/login/code$"))
        page.get_by_label("6-digit code").fill(totp_now(username))
        page.locator("#code-form").get_by_role("button", name="Continue").click()
    expect(heading).to_have_text(english)
    home = page.url

    # Chinese, by the switcher in the navigation bar.
    page.locator("#language-form button[value=zh]").click()
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#language-form button[value=zh]")).to_have_attribute("aria-pressed", "true")
    expect(heading).to_have_text(chinese)
    assert page.url == home  # the switch returns to the page it was pressed on

    # Care mode: larger text.
    font_size = "parseFloat(getComputedStyle(document.body).fontSize)"
    standard = page.evaluate(font_size)
    page.locator("#care-mode-toggle").click()
    expect(page.locator("body")).to_have_class(re.compile(r"(^|\s)care-mode(\s|$)"))
    expect(page.locator("#care-mode-toggle")).to_have_attribute("aria-pressed", "true")
    # The page is reloaded by the switch: wait for its style, which fails after the timeout if never larger.
    page.wait_for_function(f"{font_size} > {standard}")
    page.screenshot(path=tmp_path / f"{role}-zh-care.png", full_page=True)

    # Back to English; care mode stays on.
    page.locator("#language-form button[value=en]").click()
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text(english)
    expect(page.locator("body")).to_have_class(re.compile(r"(^|\s)care-mode(\s|$)"))

    # Sign out: the home page asks to sign in again.
    page.locator("#logout").click()
    expect(page.locator("#logout")).to_have_count(0)
    page.goto(home)
    expect(page).to_have_url(re.compile(r"/login"))

    assert page.problems == []
