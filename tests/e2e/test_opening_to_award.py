"""Issue #6's "done when", in a real browser against the real app under gunicorn with a real Celery worker.

A. A section (comprehensive scoring) from published to awarded: three bidders seal and submit with the
   bidder's tool, each with an electronic guarantee; the deadline passes on the servers' clock; the centre
   starts the opening, a bidder signs in, the centre and a supervisor release their key shares, the worker
   decrypts; a supervisor's hall (never reloaded by the test) shows it all as it happens; the record is sealed
   and confirmed by every bidder; after the objection window the committee is drawn, scores and signs; the
   candidates are publicised; after the publicity period the unit awards and the winner downloads its award
   notice. The record, the receipts and the award notice verify offline with the seal certificates alone.
B. Two valid bids: the hall warns, the host records the section's failure (流标), the record shows it.
C. A guarantee from a CA outside the trust store: the hall and the printable record name ``issuer_unknown``.

The test process moves time (the shared clock file, the section's closing); every person acts in the browser.
"""
import hashlib
import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core import clock, settings
from tender import demo as tender_demo
from tests.e2e import opening_support
from tests.e2e.opening_support import (NAMES, bid_with_the_tool, credit_codes, download, flashed, hall_of,
                                       pass_the_deadline, published_section, release_shares_watched, row_of,
                                       start_and_release)

stack, person = opening_support.stack, opening_support.person  # the fixtures, found by name


# Offline verification: docs/formats.md, cryptography, hashlib and json only.

def verify_sealed(document: bytes, certificates_pem: bytes, ca_pem: bytes) -> dict:
    """The body of a sealed platform document (opening record, receipt, award notice) once its seal
    certificate is found by fingerprint among ``certificates_pem``, checked against the root CA, and its
    signature verified over the body's UTF-8 bytes; raises otherwise."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def canonical(value) -> bytes:  # RFC 8785 for what these documents hold (strings, integers, no floats)
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    wrapper = json.loads(document)
    assert set(wrapper) == {"body", "signature"} and canonical(wrapper) == document
    body = wrapper["body"].encode("utf-8")
    fields = json.loads(body)
    assert canonical(fields) == body
    ca = x509.load_pem_x509_certificate(ca_pem)
    seals = {hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest(): c
             for c in x509.load_pem_x509_certificates(certificates_pem)}
    certificate = seals[fields["certificate"]]
    certificate.verify_directly_issued_by(ca)
    certificate.public_key().verify(bytes.fromhex(wrapper["signature"]), body, ec.ECDSA(hashes.SHA256()))
    return fields


def forged(document: bytes, old: str, new: str) -> bytes:
    wrapper = json.loads(document)
    assert old in wrapper["body"]
    wrapper["body"] = wrapper["body"].replace(old, new, 1)
    return json.dumps(wrapper, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# A. From published to awarded.

@pytest.mark.e2e
def test_from_published_to_awarded_watched_live(app, demo_users, stack, person, tmp_path):
    from cryptography.exceptions import InvalidSignature

    demo, now = demo_users, clock.now()
    tender_demo.demo_experts(demo["centre"], now)  # expert1 … expert5; expert5 works for bidder1 (回避)
    settings.change(demo["admin"], "tender.committee_size", "3", now, "四名专家可抽", now)
    section = published_section(demo, "南京市第三中学体育馆", "comprehensive")
    prices = {"bidder1": "980000.00", "bidder2": "950000.00", "bidder3": "990000.00"}
    bids = bid_with_the_tool(app, stack, demo, section, prices, tmp_path)
    section_id, code = section.id, section.code
    pass_the_deadline(stack, section)
    codes = credit_codes(demo)
    hall = hall_of(section_id)

    # A supervisor watches the hall from before the start; the test never reloads this page.
    watcher = person("supervisor")
    watcher.goto(hall)
    expect(watcher.locator("#not-started")).to_be_visible()

    centre = person("centre")
    centre.goto(hall)
    centre.locator("#start-opening").click()
    flashed(centre, "The opening has started")
    # The hall turns into the opening by itself (its script reloads once when the opening starts).
    expect(watcher.locator("#opening-status")).to_have_text("waiting for key shares")
    watcher.evaluate("window.watchedSinceTheStart = true")  # gone if the page were loaded again

    bidders = {name: person(name) for name in prices}
    for page in bidders.values():
        page.goto(hall)
    bidders["bidder1"].locator("#sign-in").click()
    flashed(bidders["bidder1"], "Your company is signed in")
    expect(watcher.locator("#sign-ins")).to_contain_text(NAMES["bidder1"])

    keyholder = release_shares_watched(person, centre, hall, watcher)

    # The worker decrypts; progress and prices reach the watcher as they are decided.
    expect(watcher.locator("#progress-text")).to_have_text("3 / 3")
    expect(watcher.locator("#opening-status")).to_have_text("decrypted")
    for name, price in (("bidder1", "98.00 万元"), ("bidder2", "95.00 万元"), ("bidder3", "99.00 万元")):
        row = row_of(watcher, codes[name])
        expect(row.locator(".price")).to_have_text(price)
        expect(row.locator(".guarantee")).to_have_text("valid")
        expect(row).to_contain_text("工期: 180天")
    expect(watcher.locator("#few-bids")).to_be_hidden()

    centre.locator("#seal-record").click()
    flashed(centre, "The opening record is sealed")
    expect(watcher.locator("#opening-status")).to_have_text("record sealed")
    record_file = download(centre, centre.get_by_role("link", name="signed file", exact=True))

    for name, page in bidders.items():
        page.goto(hall)
        page.get_by_label("Confirm the record").check()
        page.locator("#send-response").click()
        flashed(page, "Your response is recorded")
        expect(watcher.locator("#responses")).to_contain_text(f"{NAMES[name]}: confirmed")
    expect(watcher.locator("#responses li")).to_have_count(3)

    # After the objection window: the committee (3 of the 4 experts not linked to a bidder) scores and signs.
    stack.move_clock(clock.now() + timedelta(minutes=31))
    evaluation = f"/tender/sections/{section_id}/evaluation"
    centre.goto(evaluation)
    centre.locator("#draw-form button").click()
    flashed(centre, "The committee of 3 experts is drawn")
    members = centre.locator("#committee li")
    expect(members).to_have_count(3)
    drawn = " ".join(members.all_inner_texts())
    usernames = [u for u, n, _c in tender_demo.EXPERTS if n in drawn]
    assert len(usernames) == 3 and "expert5" not in usernames, drawn
    scores = {"bidder1": ("55", "8"), "bidder2": ("40", "6"), "bidder3": ("50", "7")}
    experts = [person(username) for username in usernames]
    for i, expert in enumerate(experts):
        expert.goto(evaluation)
        for name, (technical, commercial) in scores.items():
            row = expert.locator("#bids tbody tr", has_text=NAMES[name])
            row.get_by_label("Technical score").fill(technical)
            row.get_by_label("Commercial score").fill(commercial)
        expert.get_by_role("button", name="Save my scores").click()
        flashed(expert, "Your scores are saved")
        if i == 0:  # no sign-off before every member has scored every bid
            expert.locator("#sign-form button").click()
            expect(expert.locator(".alert-danger")).to_contain_text("6 scores are still to be entered")
    for i, expert in enumerate(experts):
        expert.goto(evaluation)
        expert.locator("#sign-form button").click()
        flashed(expert, "The report is sealed" if i == len(experts) - 1 else "You signed the report off")
    expect(watcher.locator("#section-status")).to_have_text("evaluated")
    centre.goto(evaluation)
    ranking = centre.locator("#ranking tbody tr")
    expect(ranking.first).to_contain_text(NAMES["bidder1"])  # 29.08 + 55 + 8 beats the lowest price's 76.00
    expect(ranking.first).to_contain_text("92.08")
    report_file = download(centre, centre.locator("#report-link"))
    centre.locator("#publicise-form button").click()
    flashed(centre, "The candidates are published")
    expect(watcher.locator("#section-status")).to_have_text("candidates publicised")
    assert watcher.evaluate("window.watchedSinceTheStart") is True
    # Their sessions would expire over the publicity period, and the halls' event streams with them.
    problems = [p for page in (watcher, centre, keyholder, *bidders.values(), *experts) for p in page.problems]
    for page in (watcher, centre, keyholder, *bidders.values(), *experts):
        page.context.close()

    # After the publicity period the unit awards; the winner downloads its award notice.
    stack.move_clock(clock.now() + timedelta(days=3, minutes=1))
    unit = person("procuring")
    unit.goto(f"/tender/sections/{section_id}/award")
    unit.locator("#award-form button").click()
    flashed(unit, "The section is awarded")
    expect(unit.locator("#result")).to_contain_text(NAMES["bidder1"])
    winner = person("bidder1")
    winner.goto(f"/tender/sections/{section_id}/result")
    expect(winner.locator("#my-result")).to_contain_text("Your bid won")
    notice_file = download(winner, winner.locator("#award-notice-link"))

    # Offline: the seal certificates, the files, and nothing of the platform's code.
    certificates, ca = stack.fetch("/seal/certificates.pem"), stack.fetch("/seal/ca.pem")
    record = verify_sealed(record_file, certificates, ca)
    assert record["type"] == "eproc-opening-record" and record["section"]["code"] == code
    assert record["valid_bids"] == 3 and record["decision"] is None
    assert [k["role"] for k in record["keyholders"]] == ["centre", "supervisor"]
    assert [s["credit_code"] for s in record["sign_ins"]] == [codes["bidder1"]]
    by_bidder = {b["bidder"]["credit_code"]: b for b in record["bids"]}
    for name, (envelope, receipt_file) in bids.items():
        receipt = verify_sealed(receipt_file, certificates, ca)
        assert receipt["bidder"] == codes[name] and receipt["section"]["code"] == code
        assert receipt["envelope"] == {"sha256": hashlib.sha256(envelope).hexdigest(), "size": len(envelope)}
        entry = by_bidder[codes[name]]
        assert (entry["envelope_sha256"], entry["received_at"]) == (receipt["envelope"]["sha256"],
                                                                    receipt["received_at"])
        assert (entry["outcome"], entry["price"], entry["guarantee"]["verdict"], entry["valid"]) == \
            ("opened", prices[name], "valid", True)
    notice = verify_sealed(notice_file, certificates, ca)
    assert notice["type"] == "eproc-award-notice" and notice["rank"] == 1
    assert (notice["winner"]["credit_code"], notice["amount"]) == (codes["bidder1"], "980000.00")
    assert notice["evaluation_report_sha256"] == hashlib.sha256(report_file).hexdigest()
    with pytest.raises(InvalidSignature):
        verify_sealed(forged(notice_file, '"980000.00"', '"880000.00"'), certificates, ca)
    with pytest.raises(InvalidSignature):
        verify_sealed(forged(record_file, '"valid_bids":3', '"valid_bids":2'), certificates, ca)

    assert problems + unit.problems + winner.problems == []


# B and C: fewer than three valid bids.

def opened_with_few_valid(app, stack, demo, person, tmp_path, prices, untrusted=frozenset()):
    section = published_section(demo, "南京市第四中学围墙", "lowest_price")
    bid_with_the_tool(app, stack, demo, section, prices, tmp_path, untrusted)
    pass_the_deadline(stack, section)
    section_id, codes = section.id, credit_codes(demo)
    hall = hall_of(section_id)
    centre = start_and_release(person, hall)
    expect(centre.locator("#few-bids")).to_be_visible()
    expect(centre.locator("#seal-record")).to_be_visible()
    return section_id, codes, hall, centre


@pytest.mark.e2e
def test_two_valid_bids_end_in_failure(app, demo_users, stack, person, tmp_path):
    demo = demo_users
    section_id, _codes, hall, centre = opened_with_few_valid(app, stack, demo, person, tmp_path,
                                                  {"bidder1": "980000.00", "bidder2": "950000.00"})
    centre.locator("#seal-record").click()  # not before the decision: back to the hall, told why
    expect(centre.locator(".alert-danger")).to_contain_text("record first whether the procedure continues")
    centre.get_by_label("The section fails (流标)").check()
    centre.get_by_label("Legal ground or reason").fill("有效投标不足三家，依法重新招标")
    centre.locator("#record-decision").click()
    flashed(centre, "The decision is recorded")
    expect(centre.locator("#decision")).to_contain_text("有效投标不足三家")
    centre.locator("#seal-record").click()
    flashed(centre, "The opening record is sealed")
    expect(centre.locator("#section-status")).to_have_text("failed")
    centre.locator("#record-link").click()
    expect(centre.locator("#valid-bids")).to_have_text("2")
    expect(centre.locator("main")).to_contain_text("fail — 有效投标不足三家，依法重新招标")
    result = person("bidder1")
    result.goto(f"/tender/sections/{section_id}/result")
    expect(result.locator("#no-result")).to_contain_text("It failed (流标): 有效投标不足三家")
    assert centre.problems == [] and result.problems == []


@pytest.mark.e2e
def test_a_guarantee_from_an_unknown_issuer_is_named_in_the_record(app, demo_users, stack, person, tmp_path):
    demo = demo_users
    _section_id, codes, hall, centre = opened_with_few_valid(
        app, stack, demo, person, tmp_path, {"bidder1": "980000.00", "bidder2": "950000.00", "bidder3": "990000.00"},
        untrusted={"bidder3"})
    stranger = row_of(centre, codes["bidder3"])
    expect(stranger.locator(".guarantee")).to_contain_text("[issuer_unknown]")
    expect(stranger).to_contain_text("not valid")
    expect(row_of(centre, codes["bidder1"]).locator(".guarantee")).to_have_text("valid")
    centre.get_by_label("Continue the procedure").check()
    centre.get_by_label("Legal ground or reason").fill("政府采购法实施条例第xx条：经批准继续评标")
    centre.locator("#record-decision").click()
    flashed(centre, "The decision is recorded")
    centre.locator("#seal-record").click()
    flashed(centre, "The opening record is sealed")
    centre.locator("#record-link").click()
    expect(centre.locator("#valid-bids")).to_have_text("2")
    printed = centre.locator("#record-bids tbody tr", has_text=NAMES["bidder3"])
    expect(printed.locator(".guarantee")).to_contain_text("issuer_unknown")
    expect(printed).to_contain_text("not valid")
    expect(centre.locator("#record-bids tbody tr", has_text=NAMES["bidder1"]).locator(".guarantee")) \
        .to_contain_text("valid")
    assert centre.problems == []
