"""Issue #8's "done when", in a real browser against the real app under gunicorn with a real Celery worker.

A. A supervisor finds an opening in progress in the workspace and watches it live in the hall (never reloaded:
   shares released, prices decided, the record sealed), then steps through its replay, which matches the sealed
   record. Three bidders seal and submit with the bidder's tool at prices in arithmetic progression, two of
   them from one address (127.0.0.1) and the third from another (the same server on ::1): the red flags the
   beat's job computes show the address, the bidders and the prices, and the supervisor confirms them with a
   reason. The OCDS release package of the publication's quarter, downloaded in the browser, validates against
   the release-package schema and names the three tenderers. The journal verifies in the browser; once the
   actor of the confirmation's entry is changed in the database, the verification names exactly that entry.
B. Imported history: the statistics dashboard for the first half of 2024 by quarter, and its XLSX export
   with the same figures.

The test process moves time and runs the beat's job (red flags); every person acts in the browser.
"""
import json
import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from jsonschema import Draft4Validator, FormatChecker
from openpyxl import load_workbook
from playwright.sync_api import expect
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy import text

from core import clock
from core.extensions import db
from supervision.tasks import compute_due_red_flags, refresh_statistics
from tender import history
from tests.e2e import opening_support
from tests.e2e.opening_support import (NAMES, bid_with_the_tool, credit_codes, download, flashed, hall_of,
                                       pass_the_deadline, published_section, release_shares_watched, row_of)
from tests.supervision.test_ocds import SCHEMAS

stack, person = opening_support.stack, opening_support.person  # the fixtures, found by name

PRICES = {"bidder1": "900000.00", "bidder2": "930000.00", "bidder3": "960000.00"}  # 30,000 apart
SHOWN = {"bidder1": "90.00 万元", "bidder2": "93.00 万元", "bidder3": "96.00 万元"}
REPLAYED = ["The host started the opening", "A keyholder released a key share", "A keyholder released a key share",
            "Enough shares: decryption started", "A batch of bids was decrypted and checked", "Every bid decided",
            "The opening record was sealed"]


def ocds_validator() -> Draft4Validator:
    """The release-package schema kept as test data, its release schema resolved to the local file."""
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text(encoding="utf-8"))
    release = json.loads((SCHEMAS / "release-schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(release["id"], Resource.from_contents(release, default_specification=DRAFT4))
    return Draft4Validator(package, registry=registry, format_checker=FormatChecker())


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month + 2) // 3}"


def verify_the_journal(page):
    page.goto("/supervision/journal")
    page.locator("#verify-now").click()
    expect(page).to_have_url(re.compile(r"/supervision/journal/verifications/\d+$"))
    return page.locator("#verification-status")


@pytest.mark.e2e
def test_a_supervisor_watches_replays_flags_publishes_and_audits(app, demo_users, stack, person, tmp_path):
    if stack.url_v6 is None:
        pytest.skip("needs the IPv6 loopback (::1): one bidder submits from a second address")
    demo = demo_users
    section = published_section(demo, "南京市第五中学食堂", "lowest_price")
    bid_with_the_tool(app, stack, demo, section, PRICES, tmp_path, urls={"bidder3": stack.url_v6})
    section_id, code, base = section.id, section.code, section.base_amount
    published_on = clock.local(section.published_at).date()
    pass_the_deadline(stack, section)
    codes = credit_codes(demo)
    hall = hall_of(section_id)

    # The centre starts the opening; a supervisor finds it in the workspace and watches it from there.
    centre = person("centre")
    centre.goto(hall)
    centre.locator("#start-opening").click()
    flashed(centre, "The opening has started")
    watcher = person("supervisor")
    watcher.goto("/supervision")
    watcher.get_by_role("link", name="Openings: live and replays").click()
    live = watcher.locator("#live-openings tbody tr", has_text=code)
    expect(live.locator("[data-field=status]")).to_have_text("waiting for key shares")
    expect(live.locator("[data-field=shares]")).to_have_text("0 / 2")
    live.get_by_role("link", name="Watch live").click()
    expect(watcher).to_have_url(re.compile(re.escape(hall) + "$"))
    expect(watcher.locator("#opening-status")).to_have_text("waiting for key shares")
    watcher.evaluate("window.watchedSinceTheStart = true")  # gone if the page were loaded again

    keyholder = release_shares_watched(person, centre, hall, watcher)
    expect(watcher.locator("#progress-text")).to_have_text("3 / 3")
    expect(watcher.locator("#opening-status")).to_have_text("decrypted")
    for name, shown_price in SHOWN.items():
        expect(row_of(watcher, codes[name]).locator(".price")).to_have_text(shown_price)
    centre.locator("#seal-record").click()
    flashed(centre, "The opening record is sealed")
    expect(watcher.locator("#opening-status")).to_have_text("record sealed")
    assert watcher.evaluate("window.watchedSinceTheStart") is True

    # The replay, from the workspace: one step at a time, and the sealed record matches it.
    watcher.goto("/supervision/openings")
    watcher.locator("#past-openings tbody tr", has_text=code).get_by_role("link", name="Replay").click()
    expect(watcher.locator("#check-1 .verdict")).to_have_text("matches")
    expect(watcher.locator("#check-1")).to_contain_text("its keyholders, sign-ins, bids and decision match")
    steps, position = watcher.locator(".replay-step"), watcher.locator("#replay-position")
    expect(steps).to_have_count(len(REPLAYED))
    expect(position).to_have_text(f"{len(REPLAYED)} / {len(REPLAYED)}")  # the last step first
    watcher.locator("#replay-slider").fill("0")
    seen = []
    for i in range(len(REPLAYED)):
        if i:
            watcher.locator("#replay-next").click()
        expect(position).to_have_text(f"{i + 1} / {len(REPLAYED)}")
        step = watcher.locator(".replay-step:visible")
        expect(step).to_have_count(1)
        seen.append(step.locator(".card-header").inner_text())
    assert [label for header in seen for label in set(REPLAYED) if label in header] == REPLAYED, seen
    expect(step.locator(".replay-keyholders li")).to_have_text([re.compile("^centre"), re.compile("^supervisor")])
    for shown_price in SHOWN.values():
        expect(step.locator(".replay-bids")).to_contain_text(shown_price)
    watcher.locator("#replay-prev").click()
    expect(position).to_have_text(f"{len(REPLAYED) - 1} / {len(REPLAYED)}")
    expect(watcher.locator(".replay-step:visible .card-header")).to_contain_text("Every bid decided")

    # The beat's job computes the flags of the sealed opening; the supervisor reads and confirms them.
    assert compute_due_red_flags() == 1
    watcher.goto("/supervision/red-flags")
    flags = watcher.locator("#red-flag-list tbody tr", has_text=code)
    expect(flags.filter(has_text="Several bidders from one IP address")).to_have_count(1)
    expect(flags.filter(has_text="Prices in arithmetic or geometric progression")).to_have_count(1)

    flags.get_by_role("link", name="Several bidders from one IP address").click()
    evidence = watcher.locator("#evidence")
    expect(evidence).to_contain_text("127.0.0.1")
    expect(evidence).to_contain_text("bid submission")
    for name in ("bidder1", "bidder2"):
        expect(evidence).to_contain_text(NAMES[name])
        expect(evidence).to_contain_text(codes[name])
    expect(evidence).not_to_contain_text(NAMES["bidder3"])  # it submitted from ::1, alone there
    decide(watcher, "confirm", "两家投标人同一IP地址递交投标文件，移交核查")

    watcher.get_by_role("link", name="Red flags").first.click()
    flags.get_by_role("link", name="Prices in arithmetic or geometric progression").click()
    for name, shown_price in SHOWN.items():
        expect(evidence).to_contain_text(NAMES[name])
        expect(evidence.locator("li", has_text=NAMES[name])).to_contain_text(shown_price)
    differences = evidence.locator("dt", has_text=re.compile("^Differences$")).locator("xpath=following-sibling::dd[1]")
    expect(differences.locator("li")).to_have_text(["3.00 万元", "3.00 万元"])
    arithmetic = evidence.locator("dt", has_text=re.compile("^Arithmetic progression$"))
    expect(arithmetic.locator("xpath=following-sibling::dd[1]")).to_have_text("yes")
    decide(watcher, "confirm", "报价呈等差数列，疑似串通投标")

    # Open data: the release package of the publication's quarter, downloaded from the supervision home.
    watcher.goto("/supervision")
    watcher.get_by_role("link", name="Open data (OCDS)").click()
    watcher.get_by_label("A period").fill(quarter_of(published_on))
    with watcher.expect_response(re.compile(r"/supervision/open-data/releases\.json")) as answer:
        watcher.get_by_role("button", name="Download").click()
    assert answer.value.status == 200
    package = answer.value.json()
    errors = sorted(ocds_validator().iter_errors(package), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    [release] = [r for r in package["releases"] if r["tender"]["id"] == code]
    assert release["ocid"] == f"ocds-xxxxxx-{code}"
    tender = release["tender"]
    assert Decimal(str(tender["value"]["amount"])) == base and tender["value"]["currency"] == "CNY"
    assert tender["numberOfTenderers"] == 3
    assert sorted(t["name"] for t in tender["tenderers"]) == sorted(NAMES.values())
    assert "900000" not in json.dumps(package)  # never a bid price

    # The journal verifies; then the actor of the last confirmation's entry is changed in the database.
    status = verify_the_journal(watcher)
    expect(status).to_contain_text("The journal verifies")
    expect(watcher.locator("#verification [data-field=checked]")).to_have_text(
        watcher.locator("#verification [data-field=total]").inner_text())
    seq = db.session.scalar(text("SELECT max(seq) FROM journal_entry WHERE action = 'supervision.red_flag.confirm'"))
    db.session.execute(text("UPDATE journal_entry SET actor_id = :bidder WHERE seq = :seq"),
                       {"bidder": demo["bidder1"].id, "seq": seq})
    db.session.commit()
    status = verify_the_journal(watcher)
    expect(status).to_contain_text(f"Verification failed at entry {seq}:")
    expect(status.locator("code")).to_have_text(["column_mismatch", "actor_id"])

    problems = [p for page in (centre, watcher, keyholder) for p in page.problems]
    assert problems == []


def decide(page, action: str, reason: str) -> None:
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name=f"{action.capitalize()} the flag").click()
    flashed(page, f"The flag is {action}ed")
    expect(page.locator("#flag-status")).to_have_text(f"{action}ed")
    expect(page.locator("#decision")).to_contain_text(reason)


# B. Statistics of imported history.

HISTORY = """project_code,project_name,section_code,section_name,category,region_code,method,procuring_unit_credit_code,base_amount,deal_amount,award_date,bidder_count
H2024-001,市政道路养护,H2024-001-1,一标段,works,320100,open,{unit},1000000.00,900000.00,2024-02-10,5
H2024-001,市政道路养护,H2024-001-2,二标段,works,320100,open,{unit},800000.00,,2024-03-05,2
H2024-002,体育馆照明改造,H2024-002-1,一标段,works,320100,open,{unit},2000000.00,1700000.00,2024-05-20,4
H2024-003,图书馆空调更换,H2024-003-1,一标段,works,320100,open,{unit},500000.00,480000.00,2024-08-15,3
H2023-001,老旧小区改造,H2023-001-1,一标段,works,320100,open,{unit},1000000.00,500000.00,2023-12-31,6
"""


@pytest.mark.e2e
def test_the_statistics_of_a_period_match_their_xlsx(app, demo_users, stack, person):
    unit = demo_users["procuring"].organisation.credit_code
    history.import_csv(None, HISTORY.format(unit=unit).encode(), clock.now())
    db.session.commit()
    refresh_statistics()  # the beat's job: the monthly summary takes the import in

    page = person("supervisor")
    page.get_by_role("link", name="Statistics", exact=True).click()
    page.get_by_label("Period", exact=True).select_option("quarter")
    page.get_by_label("Awarded from").fill("2024-01-01")
    page.get_by_label("to", exact=True).fill("2024-06-30")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"start=2024-01-01.*end=2024-06-30"))
    expect(page.locator("#figures-as-of")).to_contain_text("from the monthly summary")  # whole months

    # In the half-year: two awarded (B = 300 万, D = 260 万) and one failed; the others outside.
    expect(page.locator("#savings-rate")).to_have_text("13.33%")  # 40 万 / 300 万
    expect(page.locator("#mean-decline-rate")).to_have_text("12.50%")  # (10% + 15%) / 2
    total = page.locator("#table-total tbody tr").first.locator("td")
    expect(total).to_have_text(["2", "0", "1", "300.00 万元", "260.00 万元", "40.00 万元", "13.33%", "12.50%", "4.50"])
    expect(total.nth(4).locator(".money")).to_have_attribute("title", "2,600,000.00 元")
    periods = page.locator("#table-period tbody tr")
    expect(periods).to_have_count(2)
    expect(periods.nth(0).locator("td").nth(6)).to_have_text("10.00%")
    expect(periods.nth(1).locator("td").nth(6)).to_have_text("15.00%")
    page_figures = {"sections": total.nth(0).inner_text(),
                    "deal": total.nth(4).locator(".money").get_attribute("title"),
                    "rate": page.locator("#savings-rate").inner_text()}

    book = load_workbook(BytesIO(download(page, page.locator("#xlsx"))))
    sheet = book["total"]
    header = [c.value for c in sheet[2]]
    row = dict(zip(header, [c.value for c in sheet[3]], strict=True))
    xlsx_figures = {"sections": str(row["Awarded sections"]),
                    "deal": f"{Decimal(str(row['Deal total D (yuan)'])):,.2f} 元",
                    "rate": f"{Decimal(str(row['Savings rate S / B (percent)'])):.2f}%"}
    assert xlsx_figures == page_figures == {"sections": "2", "deal": "2,600,000.00 元", "rate": "13.33%"}
    assert row["Failed sections"] == 1 and Decimal(str(row["Base total B (yuan)"])) == Decimal("3000000")
    by_period = [[c.value for c in r] for r in book["period"].iter_rows(min_row=3)]
    assert [(r[1], float(r[7])) for r in by_period] == [(1, 10.0), (1, 15.0)]
    assert page.problems == []
