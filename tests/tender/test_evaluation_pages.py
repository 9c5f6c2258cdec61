"""The pages and the API of evaluation and award, as each person uses them: the centre keeps the pool and
draws, members score and sign off, the public reads the candidates, the unit awards (refused during the
publicity period) and records the contract, the winner downloads its award notice."""
import io
from datetime import timedelta

import time_machine

from core import clock, seal
from core.extensions import db
from tender import evaluation
from tests.tender.evaluation_factories import Opened, make_pool
from tests.tender.factories import PDF


def sign_in(app, user, password="demo-pass-2026"):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 302, response.text
    return client


def password_of(user):
    return "demo-pass-2026" if user.username == "expert1" else "expert-pass-2026"


def test_from_the_draw_to_the_contract_on_the_pages(app, demo, login, published):
    opened = Opened(demo, published, prices=("980000.00", "950000.00", None))
    pool = make_pool(demo, 6)  # five are drawn, one stays out
    centre = login("centre")
    page = centre.get("/tender/experts")
    assert page.status_code == 200 and "专家 expert_pool_2" in page.text
    saved = centre.post("/tender/experts", data={"expert": pool[1].id, "categories": ["works", "other"],
                                                 "affiliations": "", "active": "y"})
    assert saved.status_code == 302
    section_id = published.id
    assert 'id="draw-form"' in centre.get(f"/tender/sections/{section_id}/evaluation").text
    assert centre.post(f"/tender/sections/{section_id}/committee").status_code == 302
    db.session.expire_all()
    members = published.committee.members
    assert len(members) == 5
    outsider = sign_in(app, demo["bidder1"])
    assert outsider.get(f"/tender/sections/{section_id}/evaluation").status_code == 403
    for member in members:
        client = sign_in(app, member.user, password_of(member.user))
        page = client.get(f"/tender/sections/{section_id}/evaluation")
        assert page.status_code == 200 and 'id="sign-form"' in page.text and "950,000.00" in page.text.replace("95.00 万元", "950,000.00")
        assert client.post(f"/tender/sections/{section_id}/evaluation/sign").status_code == 302
    db.session.expire_all()
    assert published.status == "evaluated"
    report = f"/tender/sections/{section_id}/evaluation/report"
    assert centre.get(report).get_json()["signature"]
    # The signed report is for the evaluation's people only; to the others of their roles it does not exist.
    benched = [user for user in pool if user.id not in {member.user.id for member in members}]
    assert len(benched) == 1
    assert sign_in(app, benched[0], password_of(benched[0])).get(report).status_code == 404
    assert login("procuring2").get(report).status_code == 404  # another unit
    assert outsider.get(report).status_code == 403 and app.test_client().get(report).status_code == 302
    assert centre.post(f"/tender/sections/{section_id}/publicise").status_code == 302
    anonymous = app.test_client()
    public = anonymous.get(f"/tender/sections/{section_id}/candidates")
    assert public.status_code == 200 and demo["bidder2"].organisation.name in public.text
    unit = login("procuring")
    early = unit.get(f"/tender/sections/{section_id}/award")
    assert 'id="award-problem"' in early.text and 'id="award-form"' not in early.text
    db.session.expire_all()
    with time_machine.travel(published.publicity_ends_at + timedelta(minutes=5), tick=False):
        unit = login("procuring")
        assert unit.post(f"/tender/sections/{section_id}/award", data={"rank": "1"}).status_code == 302
        winner = login("bidder2")
        result = winner.get(f"/tender/sections/{section_id}/result")
        assert 'id="award-notice-link"' in result.text
        notice = winner.get(f"/tender/sections/{section_id}/award-notice")
        body = evaluation.verify_document(notice.data, seal.current("seal").certificate_pem)
        assert body["winner"]["credit_code"] == demo["bidder2"].organisation.credit_code
        assert login("bidder1").get(f"/tender/sections/{section_id}/award-notice").status_code == 404
        recorded = unit.post(f"/tender/sections/{section_id}/contract", data={
            "signed_on": clock.today_local().isoformat(), "amount": "950000.00", "performance_security": "y",
            "document": (io.BytesIO(PDF + b"contract"), "合同.pdf")}, content_type="multipart/form-data")
        assert recorded.status_code == 302, recorded.text
    db.session.expire_all()
    assert published.status == "contracted"
    page = anonymous.get(f"/tender/sections/{section_id}/result")
    assert 'id="contract"' in page.text
    assert anonymous.get(f"/tender/sections/{section_id}/contract/document").data == PDF + b"contract"
    assert opened.section.deal_amount is not None
    # The public notice leads to every announcement since; a bidder in the section also to the hall and the
    # challenges, each link opening for the one who sees it.
    notice = anonymous.get(f"/tender/notices/{section_id}").text
    for path in ("candidates", "result"):
        assert f'href="/tender/sections/{section_id}/{path}"' in notice
    assert "/opening" not in notice and "/challenges" not in notice
    bidder = login("bidder1")
    notice = bidder.get(f"/tender/notices/{section_id}").text
    for path in ("opening", "candidates", "result", "challenges"):
        assert f'href="/tender/sections/{section_id}/{path}"' in notice
        assert bidder.get(f"/tender/sections/{section_id}/{path}").status_code == 200, path


def test_scores_and_award_through_the_api(app, client, demo, submitted):
    from accounts import tokens
    from tests.tender.factories import accept, publish
    section = submitted.sections[0]
    section.evaluation_method = "comprehensive"
    accept(demo["centre"], submitted)
    publish(demo["centre"], section)
    opened = Opened(demo, section, prices=("1000000.00", "900000.00", "950000.00"))
    make_pool(demo)
    from tender import experts
    committee = experts.draw(demo["centre"], section, clock.now())
    db.session.commit()
    path = f"/api/v1/tender/sections/{section.id}"
    for member in committee.members:
        _token, secret = tokens.create(member.user, "评标", 30, clock.now())
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": f"s{member.id}"}
        bad = client.post(f"{path}/scores", json={"scores": [{"bid_result_id": opened.results[0].id,
                                                              "technical": "61", "commercial": "1"}]},
                          headers={"Authorization": headers["Authorization"]})
        assert (bad.status_code, bad.get_json()["error"]["code"]) == (422, "score_invalid")
        rows = [{"bid_result_id": r.id, "technical": "50", "commercial": "5"} for r in opened.results]
        answer = client.post(f"{path}/scores", json={"scores": rows}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.get_json()["bids"][0]["my_scores"] == {"technical": "50.00", "commercial": "5.00"}
    for member in committee.members:
        evaluation.sign(member.user, section, clock.now())
    db.session.commit()
    evaluation.publicise(demo["centre"], section, clock.now())
    db.session.commit()
    _token, secret = tokens.create(demo["procuring"], "定标", 30, clock.now())
    db.session.commit()
    unit = {"Authorization": f"Bearer {secret}"}
    early = client.post(f"{path}/award", json={}, headers=unit)
    assert (early.status_code, early.get_json()["error"]["code"]) == (409, "publicity_not_over")
    with time_machine.travel(section.publicity_ends_at + timedelta(minutes=1), tick=False):
        made = client.post(f"{path}/award", json={"rank": 1}, headers={**unit, "Idempotency-Key": "a1"})
        assert made.status_code == 201, made.text
        again = client.post(f"{path}/award", json={"rank": 1}, headers={**unit, "Idempotency-Key": "a1"})
        assert again.status_code == 201 and again.get_json() == made.get_json()
    # Equal technical and commercial scores: the lowest price (900000.00, price score 30.00) wins.
    assert made.get_json()["winner"]["credit_code"] == demo["bidder2"].organisation.credit_code
    assert made.get_json()["amount"] == "900000.00" and made.get_json()["bidder_count"] == 3
