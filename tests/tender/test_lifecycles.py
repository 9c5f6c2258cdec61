"""Every (state, action) pair of the project and section lifecycles, driven through its service and found
in the journal; every pair not in the tables refused with its code."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry
from tender import acceptance, projects, publication, states
from tender.models import Section
from tests.tender.factories import PDF, all_ok, make_project, pdf

PROJECT_STATES = sorted({s for s, _ in states.PROJECT} | set(states.PROJECT.values()))
PROJECT_ACTIONS = sorted({a for _, a in states.PROJECT})
SECTION_STATES = sorted({s for s, _ in states.SECTION} | set(states.SECTION.values()))
SECTION_ONLY_ACTIONS = sorted({a for _, a in states.SECTION} - set(PROJECT_ACTIONS) | {"cancel"})


def _due():
    return clock.today_local() + timedelta(days=5)


def _decide(demo, project, outcome):
    verdicts = all_ok(project)
    if outcome == "return":
        verdicts["funding"] = ("missing", "")
    if outcome == "accept_with_gaps":
        verdicts["drawings"] = ("missing", "")
    acceptance.decide(demo["centre"], project, outcome=outcome, verdicts=verdicts, gaps_due=_due(), now=clock.now())


def _project_in(demo, state):
    """A project brought to ``state`` by the services themselves."""
    unit = demo["procuring"]
    project = make_project(unit)
    if state == "cancelled":
        projects.cancel(unit, project, "不再需要", clock.now())
    elif state != "draft":
        projects.submit(unit, project, clock.now())
        if state in ("returned", "accepted", "accepted_with_gaps"):
            _decide(demo, project, {"returned": "return", "accepted": "accept",
                                    "accepted_with_gaps": "accept_with_gaps"}[state])
    assert project.status == state
    db.session.commit()
    return project


def _do(demo, project, action):
    unit, now = demo["procuring"], clock.now()
    if action == "submit":
        projects.submit(unit, project, now)
    elif action == "cancel":
        projects.cancel(unit, project, "不再需要", now)
    elif action == "clear_gaps":
        gaps = project.open_gaps()
        if not gaps:
            raise DomainError("gap_not_open", "no open gap")
        projects.add_document(unit, project, gaps[0].item, "gap.pdf", PDF + b"supplied", now)
        acceptance.clear_gap(demo["centre"], project, gaps[0], now)
    else:
        _decide(demo, project, action)


def _journaled(action, subject_type, subject_id) -> bool:
    db.session.commit()
    return db.session.scalar(select(JournalEntry.seq).where(JournalEntry.action == action,
                                                           JournalEntry.subject_type == subject_type,
                                                           JournalEntry.subject_id == str(subject_id))) is not None


@pytest.mark.parametrize("state", PROJECT_STATES)
@pytest.mark.parametrize("action", PROJECT_ACTIONS)
def test_every_project_state_and_action(demo, state, action):
    project = _project_in(demo, state)
    section = project.sections[0]
    expected = states.PROJECT.get((state, action))
    if expected:
        _do(demo, project, action)
        assert project.status == expected
        assert section.status == expected, "the sections follow their project through acceptance"
        assert _journaled(f"tender.project.{action}", "project", project.id)
        assert _journaled(f"tender.section.{action}", "section", section.id)
    else:
        with pytest.raises(DomainError) as refused:
            _do(demo, project, action)
        # Clearing gaps is refused before the table is asked when the project has no open gap.
        assert refused.value.code in ({"project_transition_refused", "gap_not_open"} if action == "clear_gaps"
                                      else {"project_transition_refused"})
        db.session.rollback()
        assert db.session.get(type(project), project.id).status == state


def _section_in(demo, state) -> Section:
    project = make_project(demo["procuring"])
    section = project.sections[0]
    section.status = state
    if state != "accepted":
        section.published_at, section.deadline = clock.now(), clock.now() + timedelta(days=30)
    db.session.flush()
    return section


def _act(demo, section, action):
    centre, now = demo["centre"], clock.now()
    if action == "publish":
        publication.publish(centre, section, title="招标公告", body="正文", deadline=now + timedelta(days=25),
                            documents=[pdf()], now=now)
    elif action == "fail":
        publication.fail(centre, section, "有效投标不足三家", now)
    elif action == "cancel":
        publication.cancel(centre, section, "项目终止", now)
    elif action == "close":
        section.deadline = now - timedelta(seconds=1)
        if section.id not in publication.close_due(now):
            publication.move(None, section, "close", now)  # the service passes it by: the table must refuse it
    else:
        publication.move(centre, section, action, now)


@pytest.mark.parametrize("state", SECTION_STATES)
@pytest.mark.parametrize("action", SECTION_ONLY_ACTIONS)
def test_every_section_state_and_action(demo, state, action):
    section = _section_in(demo, state)
    expected = states.SECTION.get((state, action))
    if expected:
        _act(demo, section, action)
        assert section.status == expected
        assert _journaled(f"tender.section.{action}", "section", section.id)
    else:
        with pytest.raises(DomainError) as refused:
            _act(demo, section, action)
        assert refused.value.code == "section_transition_refused"
        assert section.status == state
