"""Supervision's own tables: red flags, what the beat has checked for them, and on-demand recomputations."""
import json
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.db import UTCDateTime
from core.extensions import db


class RedFlag(db.Model):
    """One indicator raised for one subject: a section (``section:<id>``), or a procuring unit and period
    (``unit:<code>:<year>``, ``unit:<code>:<category>:<first order>``). Recomputing updates an open flag's
    evidence in place: one row per (kind, subject_key). ``period`` is the month (Beijing) of ``occurred_at``,
    the moment the flag is about (the opening sealed, the award, the first order), for counts by period."""

    __tablename__ = "red_flag"
    __table_args__ = (UniqueConstraint("kind", "subject_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject_key: Mapped[str] = mapped_column(String(120))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("section.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(18), index=True, default="")  # the procuring unit's credit code
    unit_name: Mapped[str] = mapped_column(String(200), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM in Beijing
    evidence: Mapped[str] = mapped_column(Text, default="{}")  # JSON, see docs/supervision.md
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # states.RED_FLAG
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    decided_by: Mapped[User | None] = relationship()

    @property
    def data(self) -> dict:
        return json.loads(self.evidence)


class RedFlagCheck(db.Model):
    """When the flags of a subject (``section:<id>``, or ``mall`` for the orders) were last computed, so that
    the beat computes only what sealed, was awarded or was ordered since."""

    __tablename__ = "red_flag_check"
    subject_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RedFlagRun(db.Model):
    """One recomputation over the whole history, asked for by a supervisor and run by a worker, with its
    progress (sections checked of total). ``status``: queued, running, passed (done) or error."""

    __tablename__ = "red_flag_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="queued")
    checked: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    raised: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Annotation(db.Model):
    """A supervisor's note on a section or a mall order, flagged or not (supervision.workspace.annotate):
    never changed nor deleted; each is journaled."""

    __tablename__ = "annotation"
    __table_args__ = (Index("ix_annotation_subject", "subject_type", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))  # "section" | "order"
    subject_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    author: Mapped[User] = relationship()
