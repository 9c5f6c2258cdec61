"""Sections to challenge and challenges in each state, made through the services at given moments
(Beijing time), so that working days across the 2026 National Day holiday can be counted."""
from datetime import datetime

from core.clock import SHANGHAI
from core.extensions import db
from tender import challenges, complaints, participation, projects
from tests.tender.factories import accept, make_project, publish


def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# Tuesday before the National Day week: 7 working days later is Wednesday 14 October (1-7 October off,
# Saturday 10 October worked in lieu).
PUBLISHED = beijing(2026, 9, 29, 10, 0)


def open_section(demo, now=PUBLISHED, unit="procuring", bidders=("bidder1",), days=21):
    """A section of ``unit`` published at ``now`` with ``bidders`` registered."""
    unit, centre = demo[unit], demo["centre"]
    project = make_project(unit, now=now)
    projects.submit(unit, project, now)
    accept(centre, project, now)
    section = project.sections[0]
    publish(centre, section, days=days, now=now)
    for bidder in bidders:
        participation.register(demo[bidder], section, now)
    db.session.flush()
    return section


def challenge_in(demo, state: str, section=None, now=PUBLISHED):
    """A challenge of the section's documents brought to ``state`` by the services, filed at ``now``."""
    section = section or open_section(demo, now)
    unit, bidder, supervisor = demo["procuring"], demo["bidder1"], demo["supervisor"]
    challenge = challenges.file(bidder, section, "documents", "评分标准含有倾向性条款", now)
    if state in ("extended", "extension_requested", "extended_twice", "extension_refused"):
        challenges.extend(unit, challenge, 3, "需要征求专家意见", now)
    if state in ("extension_requested", "extended_twice", "extension_refused"):
        challenges.request_extension(unit, challenge, 5, "需要行业主管部门意见", now)
    if state == "extended_twice":
        challenges.decide_extension(supervisor, challenge, True, "", now)
    if state == "extension_refused":
        challenges.decide_extension(supervisor, challenge, False, "理由不足", now)
    if state == "answered":
        challenges.answer(unit, challenge, "评分标准符合法规。", now)
    if state == "withdrawn":
        challenges.withdraw(bidder, challenge, now)
    assert challenge.status == state
    db.session.flush()
    return challenge


def complaint_in(demo, state: str, now=PUBLISHED):
    """A complaint of an answered challenge brought to ``state`` by the services, all at ``now``."""
    challenge = challenge_in(demo, "answered", now=now)
    complaint = complaints.file(demo["bidder1"], challenge, "答复未回应质疑事项", now)
    supervisor = demo["supervisor"]
    if state == "suspended":
        complaints.suspend(supervisor, complaint, "避免造成不可挽回的损失", now)
    elif state in ("upheld", "dismissed"):
        complaints.decide(supervisor, complaint, state, "经调查", now)
    elif state == "withdrawn":
        complaints.withdraw(demo["bidder1"], complaint, "已协商解决", now)
    assert complaint.status == state
    db.session.flush()
    return complaint


class ChallengeScenario:
    """What the challenge routes take ids of, on a tender Scenario's published section (its ``bidder``
    registered), made now: a challenge the unit extended once, and an answered one with a complaint."""

    IDS = {"challenge_id", "complaint_id"}

    def __init__(self, scenario, unit, bidder):
        from core import clock
        now = clock.now()
        section = scenario.section
        self.challenge = challenges.file(bidder, section, "documents", "评分标准含有倾向性条款", now)
        challenges.extend(unit, self.challenge, 2, "需要征求专家意见", now)
        answered = challenges.file(bidder, section, "documents", "资格条件过高", now)
        challenges.answer(unit, answered, "资格条件符合法规。", now)
        self.complaint = complaints.file(bidder, answered, "答复未回应质疑事项", now)
        db.session.commit()

    def object_for(self, name: str, _rule: str):
        return getattr(self, name.removesuffix("_id"))
