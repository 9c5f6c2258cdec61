"""Publication makes the section's opening key, split 2-of-3 among the centre, the procuring unit and a
supervisor; any two of them rebuild it, one alone cannot, and nothing stored holds it whole."""
import pytest
from flask_babel import force_locale

from accounts import keys
from accounts.demo import DEMO_PIN
from core import clock
from core.crypto import custody, sealing
from core.errors import DomainError
from core.extensions import db
from tender import projects
from tests.tender.factories import accept, make_project, publish


def _opening(section):
    key = section.key
    return custody.OpeningKey(key.suite, key.public_key, key.key_label,
                              [custody.WrappedShare(s.holder, s.public, s.box) for s in key.shares])


def _unwrap(share_row) -> str:
    personal = keys.current(share_row.user)
    return custody.unwrap_share(custody.WrappedShare(share_row.holder, share_row.public, share_row.box),
                                custody.PersonalKey(personal.public, personal.box), DEMO_PIN,
                                share_row.section_key.key_label)


def test_publication_makes_a_key_split_among_three_keyholders(demo, published):
    key = published.key
    assert key.threshold == 2 and key.suite == "x25519" and len(key.public_key) == 32
    assert [(s.role, s.user.username) for s in key.shares] == [("centre", "centre"), ("procuring", "procuring"),
                                                              ("supervisor", "supervisor")]
    centre, unit, supervisor = (_unwrap(s) for s in key.shares)
    opening = _opening(published)
    for pair in ([centre, unit], [unit, supervisor], [centre, supervisor]):
        private = custody.rebuild_opening_key(opening, pair)
        assert sealing.public_from_private(key.suite, private) == key.public_key
    with pytest.raises(DomainError) as one:
        custody.rebuild_opening_key(opening, [supervisor])
    assert one.value.code == "shares_insufficient"


def test_a_hybrid_post_quantum_suite_can_be_chosen_per_project(demo):
    now = clock.now()
    project = projects.create(demo["procuring"], name="量子安全项目", category="works", region_code="320100",
                              sealing_suite="mlkem768-x25519", now=now, sections=[{
                                  "name": "一标段", "method": "open", "base_amount": "100000", "guarantee_amount": "0",
                                  "bid_validity_days": 60, "evaluation_method": "lowest_price"}])
    from tender import checklists
    for item in checklists.checklist("works"):
        projects.add_document(demo["procuring"], project, item.key, "a.pdf", b"%PDF-1.4", now)
    projects.submit(demo["procuring"], project, now)
    accept(demo["centre"], project, now)
    publish(demo["centre"], project.sections[0], now=now)
    key = project.sections[0].key
    assert key.suite == "mlkem768-x25519" and len(key.public_key) == 1216
    private = custody.rebuild_opening_key(_opening(project.sections[0]), [_unwrap(s) for s in key.shares[:2]])
    assert sealing.public_from_private(key.suite, private) == key.public_key


def test_publication_waits_for_every_keyholder_to_have_a_pin(demo):
    project = make_project(demo["procuring"])
    projects.submit(demo["procuring"], project, clock.now())
    accept(demo["centre"], project)
    for name in ("supervisor", "procuring"):
        keys.current(demo[name]).retired_at = clock.now()  # as if never set
    db.session.flush()
    with pytest.raises(DomainError) as refused, force_locale("en"):
        publish(demo["centre"], project.sections[0])
    assert refused.value.code == "keyholder_missing"
    assert "the procuring unit; a supervisor of region 320100" in refused.value.message
    assert project.sections[0].status == "accepted"


def test_the_supervisors_share_goes_to_a_supervisor_of_the_sections_region(demo):
    project = make_project(demo["procuring"])
    projects.submit(demo["procuring"], project, clock.now())
    accept(demo["centre"], project)
    demo["supervisor"].organisation.region_code = "320500"  # 苏州市: the section is in 南京市
    db.session.flush()
    with pytest.raises(DomainError) as refused, force_locale("en"):
        publish(demo["centre"], project.sections[0])
    assert refused.value.code == "keyholder_missing" and "a supervisor of region 320100" in refused.value.message
    demo["supervisor"].organisation.region_code = "320000"  # 江苏省: takes in 南京市
    publish(demo["centre"], project.sections[0])
    assert {s.role: s.user_id for s in project.sections[0].key.shares}["supervisor"] == demo["supervisor"].id
