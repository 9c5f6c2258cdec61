"""Open data: OCDS 1.1 release packages valid against the release-package schema (kept here as test data,
the release schema resolved locally instead of from its URL), with the values of the section they describe,
and nothing sealed or secret before its time."""
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from core import clock, settings
from core.extensions import db
from tests.tender.factories import Scenario
from tender.models import Project, Section

SCHEMAS = Path(__file__).with_name("ocds_schema")


@pytest.fixture(scope="module")
def validator():
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text(encoding="utf-8"))
    release = json.loads((SCHEMAS / "release-schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(release["id"], Resource.from_contents(release, default_specification=DRAFT4))
    return Draft4Validator(package, registry=registry, format_checker=FormatChecker())


def valid(validator, document) -> dict:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    return document


@pytest.fixture
def scenario(demo):
    return Scenario(demo, demo["procuring"], demo["bidder1"])


def test_a_published_section_before_its_deadline_names_no_bidder(client, scenario, validator):
    section = scenario.section
    answer = client.get(f"/supervision/open-data/sections/{section.id}.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    package = valid(validator, answer.get_json())
    [release] = package["releases"]
    assert release["ocid"] == f"ocds-xxxxxx-{section.code}" and release["tag"] == ["tender"]
    tender = release["tender"]
    assert Decimal(str(tender["value"]["amount"])) == section.base_amount and tender["value"]["currency"] == "CNY"
    assert tender["tenderPeriod"] == {"startDate": clock.local(section.published_at).isoformat(timespec="seconds"),
                                      "endDate": clock.local(section.deadline).isoformat(timespec="seconds")}
    assert tender["tenderPeriod"]["endDate"].endswith("+08:00")
    # bidder1 has a sealed bid in: neither its name nor any count before the opening.
    assert "tenderers" not in tender and "numberOfTenderers" not in tender
    assert scenario.bid.organisation.name not in answer.text and "awards" not in release
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]
    assert release["buyer"]["name"] == "南京市教育局"


def test_an_awarded_section_gives_its_bidders_award_value_and_date(client, scenario, validator):
    section = scenario.section
    section.status, section.deal_amount, section.award_date, section.bidder_count = \
        "awarded", Decimal("912345.67"), date(2025, 6, 30), 1
    db.session.commit()
    package = valid(validator, client.get(f"/supervision/open-data/sections/{section.id}.json").get_json())
    [release] = package["releases"]
    assert release["tag"] == ["tender", "award"] and release["tender"]["status"] == "complete"
    assert release["tender"]["tenderers"] == [{"id": f"CN-USCC-{scenario.bid.organisation.credit_code}",
                                               "name": scenario.bid.organisation.name}]
    assert release["tender"]["numberOfTenderers"] == 1
    [award] = release["awards"]
    assert Decimal(str(award["value"]["amount"])) == Decimal("912345.67")
    assert award["date"] == "2025-06-30T00:00:00+08:00"
    assert "price" not in json.dumps(release)  # no bid price, ever


def test_the_ocid_prefix_is_a_setting(client, scenario, demo, validator):
    settings.change(demo["admin"], "ocds.ocid_prefix", "ocds-a1b2c3", None, "registered with the OCP", clock.now())
    db.session.commit()
    release = client.get(f"/supervision/open-data/sections/{scenario.section.id}.json").get_json()["releases"][0]
    assert release["ocid"] == f"ocds-a1b2c3-{scenario.section.code}"


def test_unpublished_and_historical_sections_are_not_open_data(client, scenario):
    assert client.get(f"/supervision/open-data/sections/{scenario.unpublished.id}.json").status_code == 404
    project = Project(code="H-1", name="历史项目", procuring_credit_code="12320100466000000A", region_code="320100",
                      category="works", status="accepted", historical=True, created_at=clock.now())
    old = Section(project=project, code="H-1-1", name="历史标段", category="works", region_code="320100",
                  method="open", base_amount=Decimal("100.00"), deal_amount=Decimal("90.00"),
                  award_date=date(2020, 1, 1), status="awarded")
    db.session.add_all([project, old])
    db.session.commit()
    assert client.get(f"/supervision/open-data/sections/{old.id}.json").status_code == 404


def test_a_bulk_package_holds_the_sections_published_in_the_period(client, scenario, validator):
    today = clock.today_local()
    quarter = f"{today.year}-Q{(today.month + 2) // 3}"
    package = valid(validator, client.get(f"/supervision/open-data/releases.json?period={quarter}").get_json())
    codes = {r["tender"]["id"] for r in package["releases"]}
    assert codes == {scenario.section.code, scenario.failed.code}  # the unpublished one is not there
    failed = next(r for r in package["releases"] if r["tender"]["id"] == scenario.failed.code)
    assert failed["tender"]["status"] == "unsuccessful" and failed["tag"] == ["tenderUpdate"]
    # A package holds at least one release (the schema says so): an empty period is a 404 with its reason.
    empty = client.get(f"/supervision/open-data/releases.json?period={today.year - 5}",
                       headers={"Accept": "application/json"})
    assert empty.status_code == 404 and empty.get_json()["error"]["code"] == "no_releases"
    assert client.get("/supervision/open-data/releases.json?period=2025-Q5").status_code == 400
    assert client.get("/supervision/open-data").status_code == 200


def test_the_schema_catches_a_broken_package(scenario, validator):
    """The validator in these tests does reject: a release without an ocid, an amount as a string."""
    from supervision import ocds
    document = ocds.package([scenario.section], "https://example.cn/x.json", clock.now())
    del document["releases"][0]["ocid"]
    document["releases"][0]["tender"]["value"]["amount"] = "1000000.00"
    messages = {e.message for e in validator.iter_errors(document)}
    assert any("ocid" in m for m in messages) and any("is not of type" in m for m in messages)
