"""Kernel tables: the journal, platform keys and checkpoints, notifications, the working-day calendar.

They live here (not in a blueprint) because every part of the platform writes to them.
"""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime
from core.extensions import db


class JournalEntry(db.Model):
    """One state change. ``body`` (RFC 8785 canonical JSON) is the source of truth; the other columns
    serve queries and pages and are checked against it on verification. Never updated or deleted."""

    __tablename__ = "journal_entry"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ip_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON of the payload alone
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class JournalHead(db.Model):
    """The single row every append locks briefly: the last sequence number and hash."""

    __tablename__ = "journal_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class PlatformKey(db.Model):
    """The platform CA and the seal (电子见证章). Private keys only encrypted under MASTER_KEY; retired keys
    are kept so that old signatures can still be verified."""

    __tablename__ = "platform_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20), index=True)  # "ca" or "seal"
    certificate_pem: Mapped[str] = mapped_column(Text)
    certificate_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_box: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Checkpoint(db.Model):
    """A signed statement of the journal head: anyone with the seal certificate can check it."""

    __tablename__ = "journal_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[int] = mapped_column(ForeignKey("platform_key.id"))
    body: Mapped[str] = mapped_column(Text)  # canonical JSON that was signed
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # ECDSA P-256 / SHA-256, DER


class Notification(db.Model):
    """An in-app message to one user; mailed too by a task."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeadlineWarning(db.Model):
    """A warning to send before a deadline (one day before, or at three quarters of the time allowed when
    that is shorter than two days). A beat task sends the due ones; the owner cancels it when the deadline
    is met."""

    __tablename__ = "deadline_warning"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # e.g. "order:17:confirm"
    user_ids: Mapped[str] = mapped_column(Text)  # comma-separated
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    texts: Mapped[str | None] = mapped_column(Text)  # JSON {language: [title, body]}: each person's own
    link: Mapped[str] = mapped_column(String(300))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CalendarDay(db.Model):
    """Admin-maintained holidays and adjusted workdays (调休) for years chinese-calendar does not cover."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60))
    changed_by_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JournalVerification(db.Model):
    """One run of the verifier, started from the journal page and run by a worker, with its progress."""

    __tablename__ = "journal_verification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # queued, running, passed, failed
    checked: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    first_bad_seq: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
