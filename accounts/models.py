"""Organisations, users, sign-in sessions, API tokens and password-reset tokens."""
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime
from core.extensions import db
from core.permissions import Role


class OrgKind:
    CENTRE = "centre"
    PROCURING_UNIT = "procuring_unit"
    BIDDER = "bidder"
    SUPPLIER = "supplier"
    GUARANTOR = "guarantor"
    SUPERVISOR_DEPARTMENT = "supervisor_department"
    ALL = (CENTRE, PROCURING_UNIT, BIDDER, SUPPLIER, GUARANTOR, SUPERVISOR_DEPARTMENT)
    # Kinds an organisation may choose when it registers itself; the centre is set up by the operator.
    SELF_REGISTERED = (PROCURING_UNIT, BIDDER, SUPPLIER, GUARANTOR, SUPERVISOR_DEPARTMENT)


# Which roles a user may hold in an organisation of each kind. The centre hosts the platform's
# administrators and its pool of evaluation experts.
KIND_ROLES = {
    OrgKind.CENTRE: (Role.CENTRE, Role.ADMIN, Role.EVALUATOR),
    OrgKind.PROCURING_UNIT: (Role.PROCURING,),
    OrgKind.BIDDER: (Role.BIDDER,),
    OrgKind.SUPPLIER: (Role.SUPPLIER,),
    OrgKind.GUARANTOR: (Role.GUARANTOR,),
    OrgKind.SUPERVISOR_DEPARTMENT: (Role.SUPERVISOR,),
}


def token_digest(token: str) -> str:
    """Tokens are long random strings: SHA-256 is enough to store them unreadably."""
    return hashlib.sha256(token.encode()).hexdigest()


class Region(db.Model):
    """行政区划代码: administrative divisions, loaded from core/data/regions.csv."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(String(6))

    def display_name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Organisation(db.Model):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(Integer)  # the journal names the decider too
    decision_reason: Mapped[str] = mapped_column(String(500), default="")

    region: Mapped[Region] = relationship()
    users: Mapped[list["User"]] = relationship(back_populates="organisation",
                                               foreign_keys="User.organisation_id")

    def can_view(self, user) -> bool:
        return user.role in (Role.ADMIN, Role.CENTRE, Role.SUPERVISOR) or user.organisation_id == self.id

    def can_manage(self, user) -> bool:
        return user.role == Role.ADMIN


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="active")
    password_hash: Mapped[str] = mapped_column(String(300))
    totp_secret_box: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted under MASTER_KEY
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # refuses a code used twice
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked: Mapped[bool] = mapped_column(Boolean, default=False)  # until an admin unlocks or a reset
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the person last signed in with or chose: notifications and mails reach them in it.
    language: Mapped[str | None] = mapped_column(String(8))

    organisation: Mapped[Organisation] = relationship(back_populates="users", foreign_keys=[organisation_id])

    # Flask-Login asks for the id stored in the session; the session row is checked in the loader.
    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_active(self) -> bool:
        return self.status == "active" and self.organisation.status == "approved"

    @property
    def has_totp(self) -> bool:
        return self.totp_secret_box is not None

    def can_view(self, user) -> bool:
        return user.role == Role.ADMIN or user.id == self.id

    def can_manage(self, user) -> bool:
        return user.role == Role.ADMIN


class LoginSession(db.Model):
    """A signed-in browser. The cookie names the row; sign-out and expiry end it server-side."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A personal API token: shown once, stored as its SHA-256."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so a person can tell tokens apart
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def can_view(self, user) -> bool:
        return user.id == self.user_id

    can_manage = can_view


class PasswordReset(db.Model):
    __tablename__ = "password_reset"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FailedSignIn(db.Model):
    """One failed sign-in from an address: many in a short time, whatever the usernames, slow that address
    down (password spraying tries one password on many accounts, which per-account locking never sees)."""

    __tablename__ = "failed_sign_in"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PersonalKey(db.Model):
    """A keyholder's personal X25519 key for opening-key shares: the public half in the clear, the private
    half only as a box sealed under the PIN and the pepper (core.crypto.custody). A reset retires the key:
    shares wrapped to it are lost, which the k-of-n split tolerates."""

    __tablename__ = "personal_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    public: Mapped[bytes] = mapped_column(LargeBinary)
    box: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
