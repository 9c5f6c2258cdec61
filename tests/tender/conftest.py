"""Fixtures: a project submitted for acceptance, and a published section."""
import pytest

from core import clock
from core.extensions import db
from tests.tender.factories import accept, make_project, publish
from tender import projects


@pytest.fixture
def submitted(demo):
    project = make_project(demo["procuring"])
    projects.submit(demo["procuring"], project, clock.now())
    db.session.commit()
    return project


@pytest.fixture
def published(demo, submitted):
    accept(demo["centre"], submitted)
    publish(demo["centre"], submitted.sections[0])
    db.session.commit()
    return submitted.sections[0]
