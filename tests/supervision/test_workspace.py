"""The supervisor's workspace: openings live and past in the supervisor's region only, and annotations and
flags on sections and orders, each journaled."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts import regions
from core.extensions import db
from core.models import JournalEntry
from supervision import workspace
from supervision.models import Annotation
from tender import opening as openings
from tests.supervision.test_replay import closed  # noqa: F401  (fixtures: a section closed with three bids)
from tests.tender.conftest import published, submitted  # noqa: F401
from tests.tender.test_opening import bidder_pki  # noqa: F401


def move_supervisor(demo, region: str) -> None:
    demo["supervisor"].organisation.region_code = region
    db.session.commit()


def test_a_city_covers_its_districts_and_a_district_only_itself(demo):
    assert regions.prefix("320100") == "3201" and regions.prefix("320000") == "32" and regions.prefix("300000") == "30"
    supervisor = demo["supervisor"]  # 南京市 320100
    assert workspace.covers(supervisor, "320100") and workspace.covers(supervisor, "320115")
    assert not workspace.covers(supervisor, "320500")
    move_supervisor(demo, "320115")
    assert workspace.covers(supervisor, "320115") and not workspace.covers(supervisor, "320100")
    assert workspace.covers(demo["admin"], "320500")  # the platform's operator sees every region
    assert not workspace.covers(demo["bidder1"], "320100")


def test_an_opening_in_progress_shows_with_the_hall_and_its_live_state(login, demo, closed):  # noqa: F811
    closed.start()
    supervisor = login("supervisor")
    page = supervisor.get("/supervision/openings").text
    section = closed.section
    assert section.code in page and f"/tender/sections/{section.id}/opening" in page
    assert f'data-state-url="/tender/sections/{section.id}/opening/state"' in page and "workspace.js" in page
    state = supervisor.get(f"/tender/sections/{section.id}/opening/state").json  # what workspace.js reads
    assert state["opening"]["status"] == "releasing" and state["opening"]["threshold"] == 2


def test_a_supervisor_of_another_region_sees_nothing_of_the_section(login, demo, closed):  # noqa: F811
    opening = closed.start()
    move_supervisor(demo, "320500")  # 苏州市: the section is in 南京市
    supervisor = login("supervisor")
    section = closed.section
    assert section.code not in supervisor.get("/supervision/openings").text
    assert supervisor.get(f"/supervision/sections/{section.id}/replay").status_code == 404
    assert supervisor.get(f"/supervision/sections/{section.id}/journal.jsonl").status_code == 404
    closed.release(opening, "centre", "procuring")
    openings.seal_record(demo["centre"], opening, closed.at)
    db.session.commit()
    assert section.code not in supervisor.get("/supervision/openings").text  # not among the past ones either
    refused = supervisor.post("/supervision/annotations", data={"subject_type": "section", "reference": section.code,
                                                                "text": "可疑"})
    assert refused.status_code == 404 and not db.session.scalars(select(Annotation)).all()


def test_a_finished_opening_is_listed_for_replay_until_it_is_older_than_the_period(login, demo, closed):  # noqa: F811
    opening = closed.opened()
    openings.seal_record(demo["centre"], opening, closed.at)
    db.session.commit()
    supervisor = login("supervisor")
    page = supervisor.get("/supervision/openings").text
    assert f"/supervision/sections/{closed.section.id}/replay" in page and "record sealed" in page
    past = workspace.past_openings(demo["supervisor"], closed.at + timedelta(days=31))
    assert past == []


def test_an_annotation_is_journaled_and_listed_flagged_first(login, demo, closed):  # noqa: F811
    supervisor = login("supervisor")
    section = closed.section
    for text, flagged in (("开标前一切正常", ""), ("两家投标人IP相同", "y")):
        answer = supervisor.post("/supervision/annotations", data={"subject_type": "section", "reference": section.code,
                                                                   "text": text, "flagged": flagged})
        assert answer.status_code == 302
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "supervision.annotation.added")
                                 .order_by(JournalEntry.seq)).all()
    bodies = [json.loads(e.body) for e in entries]
    assert [(b["subject"], b["payload"]["text"], b["payload"]["flagged"]) for b in bodies] == [
        ({"type": "section", "id": str(section.id)}, "开标前一切正常", False),
        ({"type": "section", "id": str(section.id)}, "两家投标人IP相同", True)]
    assert bodies[0]["actor"] == demo["supervisor"].id
    page = supervisor.get("/supervision/openings").text
    assert page.index("两家投标人IP相同") < page.index("开标前一切正常") and "Flagged" in page
    assert "两家投标人IP相同" in supervisor.get(f"/supervision/sections/{section.id}/replay").text


def test_an_order_is_annotated_by_its_number(login, demo):
    from tests.mall.access import MallScenario
    order = MallScenario(demo["procuring"], "supplier").order
    supervisor = login("supervisor")
    answer = supervisor.post("/supervision/annotations", data={"subject_type": "order", "reference": order.number,
                                                               "text": "价格偏高", "flagged": "y"})
    assert answer.status_code == 302
    note = db.session.scalars(select(Annotation)).one()
    assert (note.subject_type, note.subject_id, note.flagged) == ("order", order.id, True)
    assert order.number in supervisor.get("/supervision/openings").text


@pytest.mark.parametrize("form, status, message", [
    ({"subject_type": "section", "reference": "NO-SUCH-CODE", "text": "x"}, 404, "No such section or order in your region."),
    ({"subject_type": "section", "reference": "", "text": "x"}, 400, ""),
    ({"subject_type": "section", "reference": "{code}", "text": ""}, 400, ""),
])
def test_a_bad_annotation_is_refused_with_a_reason(login, demo, published, form, status, message):  # noqa: F811
    supervisor = login("supervisor")
    data = {k: v.format(code=published.code) for k, v in form.items()}
    answer = supervisor.post("/supervision/annotations", data=data)
    assert answer.status_code == status and message in answer.text
    assert not db.session.scalars(select(Annotation)).all()


def test_only_supervisors_annotate(login, demo, published):  # noqa: F811
    answer = login("admin").post("/supervision/annotations", data={"subject_type": "section",
                                                                   "reference": published.code, "text": "x"})
    assert answer.status_code == 403


def test_the_supervision_home_counts_what_waits_for_the_supervisor_and_links_to_it(login, demo):
    import re

    from core import clock
    from supervision import red_flags
    from tests.tender.challenge_factories import challenge_in, complaint_in
    complaint = complaint_in(demo, "filed")  # its challenge is answered
    challenge_in(demo, "extension_requested")  # and, filed in September, long past its due date
    section = complaint.challenge.section
    unit = demo["procuring"].organisation
    red_flags.upsert("single_bid", f"section:{section.id}", {"bidders": 1}, clock.now(), occurred_at=clock.now(),
                     unit_code=unit.credit_code, unit_name=unit.name, section_id=section.id)
    db.session.commit()

    def counts(page) -> dict:
        return {name: int(value) for name, value in
                re.findall(r'id="([a-z-]+)" href="[^"]*">\s*<div class="card-body"><div class="fs-3[^"]*">(\d+)<', page)}

    supervisor = login("supervisor")
    page = supervisor.get("/supervision/").text
    assert counts(page) == {"live-openings": 0, "open-red-flags": 1, "open-complaints": 1, "extension-requests": 1,
                            "overdue-challenges": 1}
    assert 'href="/supervision/red-flags?status=open"' in page and 'href="/tender/complaints/?open=1"' in page
    flags = supervisor.get("/supervision/red-flags?status=open").text
    assert "/supervision/red-flags/" in flags and section.code in flags
    move_supervisor(demo, "320500")  # another city: the flag is not the supervisor's
    assert counts(supervisor.get("/supervision/").text)["open-red-flags"] == 0
    admin = counts(login("admin").get("/supervision/").text)
    assert admin == {"live-openings": 0, "open-red-flags": 1}  # complaints and challenges are the supervisors'
