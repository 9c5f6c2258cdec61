"""Both languages are complete and served: every string the code marks is translated into Chinese with the
same placeholders, pages come out in the language the person chose, and refusals are explained in it too."""
import os
import re
import shlex
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
LOCALES = ("zh", "en")
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


def _makefile_extract_arguments(output: Path) -> list[str]:
    """The arguments of the Makefile's ``pybabel extract``, so that the test and ``make extract-messages``
    can never disagree about what is extracted; only the output file differs."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(line for line in makefile.splitlines() if "pybabel extract" in line)
    words = shlex.split(line.split("pybabel", 1)[1])
    assert words[0] == "extract", line
    out = words.index("-o")
    words[out + 1] = str(output)
    return words


def _placeholders(text: str) -> list[str]:
    """The names a text formats (a plural's singular and plural forms name the same ones)."""
    return sorted(set(PLACEHOLDER.findall(text)))


def _strings(value) -> tuple:
    return value if isinstance(value, (tuple, list)) else (value,)


def test_every_extracted_message_has_a_chinese_translation(tmp_path, monkeypatch):
    pot = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(["pybabel", "--quiet", *_makefile_extract_arguments(pot)])
    with pot.open("rb") as f:
        template = read_po(f)
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh")
    assert not catalog.fuzzy, "the header of the zh catalog is marked fuzzy"
    assert (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").exists(), "no en catalog"

    missing, fuzzy, mismatched = [], [], []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        if translated is None or not all(_strings(translated.string)):
            missing.append(message.id)
            continue
        if translated.fuzzy:
            fuzzy.append(message.id)
        wanted = _placeholders(" ".join(_strings(message.id)))
        for text in _strings(translated.string):
            if _placeholders(text) != wanted:
                mismatched.append(f"{message.id!r} -> {text!r}")
    problems = []
    if missing:
        problems.append("untranslated (run `make extract-messages` and translate):\n  "
                        + "\n  ".join(map(repr, missing)))
    if fuzzy:
        problems.append("fuzzy:\n  " + "\n  ".join(map(repr, fuzzy)))
    if mismatched:
        problems.append("placeholders differ:\n  " + "\n  ".join(mismatched))
    assert not problems, "translations/zh is incomplete\n" + "\n".join(problems)


@pytest.fixture
def compiled(app):
    """The .mo files as ``make translations`` makes them, compiled here when missing or older than the .po
    (atomically, since test workers may do it at once), and the app's translation cache emptied."""
    for locale in LOCALES:
        folder = TRANSLATIONS / locale / "LC_MESSAGES"
        po, mo = folder / "messages.po", folder / "messages.mo"
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        partial = folder / f"messages.mo.{os.getpid()}"
        with partial.open("wb") as f:
            write_mo(f, catalog)  # as `pybabel compile` (no --use-fuzzy)
        os.replace(partial, mo)
    app.extensions["babel"].instance.domain_instance.cache.clear()
    yield
    app.extensions["babel"].instance.domain_instance.cache.clear()


def _in(client, lang: str):
    client.set_cookie("lang", lang)
    return client


def test_sign_in_page_in_both_languages(compiled, client):
    chinese = _in(client, "zh").get("/login")
    assert chinese.status_code == 200
    assert '<html lang="zh-Hans"' in chinese.text
    assert "登录" in chinese.text and "公共资源交易平台" in chinese.text
    assert "Sign in" not in chinese.text

    english = _in(client, "en").get("/login")
    assert '<html lang="en"' in english.text
    assert "Sign in" in english.text and "Public Resource Trading Platform" in english.text
    assert "登录" not in english.text


def test_signed_in_pages_follow_the_language(compiled, login):
    bidder = _in(login("bidder1"), "zh")
    home = bidder.get("/tender/")
    assert home.status_code == 200
    assert "招标投标" in home.text and "投标人" in home.text and "退出登录" in home.text

    home = _in(bidder, "en").get("/tender/")
    assert "Tendering" in home.text and "Bidder" in home.text and "Sign out" in home.text


def test_refusals_are_explained_in_the_chosen_language(compiled, client, demo):
    wrong = {"username": "bidder1", "password": "wrong-password-1"}
    refused = _in(client, "zh").post("/login", data=wrong)
    assert refused.status_code == 401
    assert "用户名或密码错误。" in refused.text

    refused = _in(client, "en").post("/login", data=wrong)
    assert "The username or password is wrong." in refused.text


def test_domain_errors_through_the_error_handler_are_translated(compiled, login):
    admin = _in(login("admin"), "zh")
    refused = admin.post("/admin/settings/tender.min_days.works.open", data={"value": "abc", "reason": "测试"})
    assert refused.status_code == 422
    assert "“abc”不是 tender.min_days.works.open 的有效取值。" in refused.text

    api = admin.get("/api/no-such-thing", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.get_json()["error"]["message"] == "您访问的页面或记录不存在。"
