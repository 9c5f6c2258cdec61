"""Projects and their sections (标段), acceptance reviews, notices, registrations, downloads,
clarifications and rooms."""
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from accounts.models import Organisation, User
from core import settings
from core.db import Money, UTCDateTime
from core.extensions import db
from core.permissions import Role

CATEGORIES = {"works": _l("Works (工程建设)"), "procurement": _l("Government procurement (政府采购)"),
              "other": _l("Other (其他)")}
METHODS = {"open": _l("Open tender (公开招标)"), "invited": _l("Invited tender (邀请招标)"),
           "competitive_negotiation": _l("Competitive negotiation (竞争性谈判)"),
           "competitive_consultation": _l("Competitive consultation (竞争性磋商)"),
           "inquiry": _l("Request for quotation (询价)"), "single_source": _l("Single source (单一来源)")}
EVALUATION_METHODS = {"lowest_price": _l("Lowest evaluated price"), "comprehensive": _l("Comprehensive scoring")}
# Works sections are priced against a control price (招标控制价); the others against a budget (预算金额).
BASE_LABELS = {"works": _l("Control price"), "procurement": _l("Budget"), "other": _l("Budget")}
SEALING_SUITES = {"x25519": _l("X25519 (standard)"),
                  "mlkem768-x25519": _l("ML-KEM-768 + X25519 (post-quantum hybrid)")}
ROOM_KINDS = {"opening": _l("Opening room"), "evaluation": _l("Evaluation room")}

# Statutory minimum calendar days from publication to bid deadline, per method (settings per category and method).
DEFAULT_MIN_DAYS = {"open": 20, "invited": 20, "competitive_negotiation": 3, "competitive_consultation": 10,
                    "inquiry": 3, "single_source": 5}
for _category, _category_label in CATEGORIES.items():
    for _method, _days in DEFAULT_MIN_DAYS.items():
        settings.define(settings.Definition(
            f"tender.min_days.{_category}.{_method}", int, _days,
            _l("Minimum calendar days from publication to bid deadline: %(category)s, %(method)s",
               category=_category_label, method=METHODS[_method]), _l("days"), 1, 365))

settings.define(settings.Definition("tender.key_threshold", int, 2,
                                    _l("Keyholders needed to open a section's bids (of three: centre, procuring unit, "
                                       "supervisor)"), _l("keyholders"), 2, 3))
settings.define(settings.Definition("tender.envelope_max_mb", int, 200, _l("Largest sealed bid envelope accepted"),
                                    "MB", 1, 2000))

# Staff who see every project: the centre runs them, supervisors watch them. Administrators run the
# platform (users, organisations, settings), not the trade.
OVERSEERS = (Role.CENTRE, Role.SUPERVISOR)


class Project(db.Model):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The procuring unit: a platform organisation; an imported historical project may name one by its
    # credit code only.
    procuring_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    procuring_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    category: Mapped[str] = mapped_column(String(20))
    green_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    green_channel_reason: Mapped[str] = mapped_column(String(300), default="")
    # The HPKE suite bids are sealed with (core.crypto.sealing.SUITES): classical by default, or hybrid
    # post-quantum ML-KEM-768+X25519 where the unit asks for it.
    sealing_suite: Mapped[str] = mapped_column(String(40), default="x25519", server_default="x25519")
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    procuring_unit: Mapped[Organisation | None] = relationship()
    sections: Mapped[list["Section"]] = relationship(back_populates="project", order_by="Section.id")
    documents: Mapped[list["ProjectDocument"]] = relationship(back_populates="project",
                                                              order_by="ProjectDocument.id")
    reviews: Mapped[list["Review"]] = relationship(back_populates="project", order_by="Review.id")

    def can_view(self, user) -> bool:
        return user.role in OVERSEERS or (user.role == Role.PROCURING
                                          and user.organisation_id == self.procuring_unit_id)

    def can_manage(self, user) -> bool:
        return user.role == Role.PROCURING and user.organisation_id == self.procuring_unit_id

    def can_review(self, user) -> bool:
        return user.role == Role.CENTRE

    @property
    def latest_review(self) -> "Review | None":
        return self.reviews[-1] if self.reviews else None

    def open_gaps(self) -> list["Finding"]:
        review = self.latest_review
        if review is None or review.outcome != "accepted_with_gaps":
            return []
        return [f for f in review.findings if f.cleared_at is None]


class Section(db.Model):
    __tablename__ = "section"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    method: Mapped[str] = mapped_column(String(30), index=True)
    base_amount: Mapped[Decimal | None] = mapped_column(Money())  # control price or budget
    guarantee_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    bid_validity_days: Mapped[int] = mapped_column(Integer, default=90)
    evaluation_method: Mapped[str] = mapped_column(String(30), default="lowest_price")
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("section.id"))  # the failed round before
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # bids close; opening starts
    min_days: Mapped[int | None] = mapped_column(Integer)  # the statutory minimum in force at publication
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    # Outcome, for statistics (set by the award, or by a historical import).
    deal_amount: Mapped[Decimal | None] = mapped_column(Money())
    award_date: Mapped[date | None] = mapped_column(Date, index=True)
    bidder_count: Mapped[int | None] = mapped_column(Integer)
    # Receipts number each section's envelopes in order; the counter row serialises that numbering.
    bid_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    project: Mapped[Project] = relationship(back_populates="sections")
    previous: Mapped["Section | None"] = relationship(remote_side=[id])
    notices: Mapped[list["Notice"]] = relationship(back_populates="section", order_by="Notice.id")

    @property
    def base_label(self):
        return BASE_LABELS.get(self.category, BASE_LABELS["other"])

    @property
    def tender_notice(self) -> "Notice | None":
        return next((n for n in self.notices if n.kind == "tender"), None)

    @property
    def is_public(self) -> bool:
        return self.published_at is not None

    def can_view(self, user) -> bool:
        return self.is_public or self.project.can_view(user)

    def can_manage(self, user) -> bool:
        return self.project.can_manage(user)

    def can_publish(self, user) -> bool:
        return user.role == Role.CENTRE

    def can_answer(self, user) -> bool:
        """Clarifications and addenda come from the procuring unit or the centre acting for it."""
        return user.role == Role.CENTRE or self.project.can_manage(user)


class ProjectDocument(db.Model):
    """An application document of a project, stored content-addressed (core.storage)."""

    __tablename__ = "project_document"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))  # the checklist item it answers
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    project: Mapped[Project] = relationship(back_populates="documents")


class Review(db.Model):
    """One acceptance decision on a project: accepted, returned, or accepted with gaps."""

    __tablename__ = "review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    gaps_due: Mapped[date | None] = mapped_column(Date)

    project: Mapped[Project] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()
    findings: Mapped[list["Finding"]] = relationship(back_populates="review", order_by="Finding.id")


class Finding(db.Model):
    """A missing or defective checklist item named by a review; after 容缺受理 it is a gap until cleared."""

    __tablename__ = "finding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))
    problem: Mapped[str] = mapped_column(String(20))  # missing | defective
    note: Mapped[str] = mapped_column(Text, default="")
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    review: Mapped[Review] = relationship(back_populates="findings")


class Notice(db.Model):
    """A public announcement of a section: the tender notice, then any addenda."""

    __tablename__ = "notice"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # tender | addendum
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    deadline_before: Mapped[datetime | None] = mapped_column(UTCDateTime())  # an addendum that moved it
    deadline_after: Mapped[datetime | None] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship(back_populates="notices")
    documents: Mapped[list["NoticeDocument"]] = relationship(back_populates="notice", order_by="NoticeDocument.id")


class NoticeDocument(db.Model):
    """A tender document (招标文件) or addendum file, published with its notice."""

    __tablename__ = "notice_document"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    notice: Mapped[Notice] = relationship(back_populates="documents")


class Registration(db.Model):
    """A bidder's registration (报名) for a section."""

    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("section_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Download(db.Model):
    """Every download of a tender document: who, when, from which address and program."""

    __tablename__ = "download"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("notice_document.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300))


class Clarification(db.Model):
    """A bidder's question and its answer. The asker is never shown to other bidders."""

    __tablename__ = "clarification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    asked_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    section: Mapped[Section] = relationship()


class Room(db.Model):
    __tablename__ = "room"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # opening | evaluation
    seats: Mapped[int] = mapped_column(Integer, default=0)


class Booking(db.Model):
    """A room booked for a time range, usually for a section's opening or evaluation."""

    __tablename__ = "booking"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("section.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(200))
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    room: Mapped[Room] = relationship()
    section: Mapped[Section | None] = relationship()


class SectionKey(db.Model):
    """The public half of a section's opening key, made at publication; the private half exists only as
    wrapped shares (KeyShare), one per keyholder."""

    __tablename__ = "section_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), unique=True)
    suite: Mapped[str] = mapped_column(String(40))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_label: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship(backref=backref("key", uselist=False))
    shares: Mapped[list["KeyShare"]] = relationship(back_populates="section_key", order_by="KeyShare.id")


class KeyShare(db.Model):
    """One keyholder's share of a section's opening key, sealed to that keyholder's personal key."""

    __tablename__ = "key_share"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_key_id: Mapped[int] = mapped_column(ForeignKey("section_key.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    personal_key_id: Mapped[int] = mapped_column(ForeignKey("personal_key.id"))
    holder: Mapped[str] = mapped_column(String(40))  # "user:<id>", bound into the wrapping
    role: Mapped[str] = mapped_column(String(20))  # centre | procuring | supervisor
    public: Mapped[bytes] = mapped_column(LargeBinary)
    box: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    section_key: Mapped[SectionKey] = relationship(back_populates="shares")
    user: Mapped[User] = relationship()


class Bid(db.Model):
    """One submitted envelope (a version of a bidder's bid). Only the sealed envelope is kept before the
    opening: the platform cannot read it."""

    __tablename__ = "bid"
    __table_args__ = (UniqueConstraint("section_id", "sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, … per bidder and section
    sequence: Mapped[int] = mapped_column(Integer)  # per section, in order of receipt
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)  # submitted|replaced|withdrawn
    envelope_sha256: Mapped[str] = mapped_column(String(64))  # also its name in the document store
    envelope_size: Mapped[int] = mapped_column(Integer)
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300))
    receipt: Mapped[str] = mapped_column(Text)  # the seal-signed receipt file (canonical JSON)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship()
    organisation: Mapped[Organisation] = relationship()

    def can_view(self, user) -> bool:
        return user.role == Role.BIDDER and user.organisation_id == self.organisation_id

    can_manage = can_view


class Guarantee(db.Model):
    """An electronic bid guarantee (电子投标保函) issued by a guarantor for a bidder and a section: the signed
    document as received, and the fields read from it."""

    __tablename__ = "guarantee"
    __table_args__ = (UniqueConstraint("guarantor_code", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    guarantor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    guarantor_code: Mapped[str] = mapped_column(String(18))
    applicant_code: Mapped[str] = mapped_column(String(18), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    document: Mapped[bytes] = mapped_column(LargeBinary)  # the signed guarantee file, byte for byte
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="issued", index=True)  # issued|revoked|claimed
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str] = mapped_column(Text, default="")

    section: Mapped[Section] = relationship()
    guarantor: Mapped[Organisation] = relationship()
    claims: Mapped[list["GuaranteeClaim"]] = relationship(back_populates="guarantee", order_by="GuaranteeClaim.id")

    def can_view(self, user) -> bool:
        if user.role == Role.GUARANTOR:
            return user.organisation_id == self.guarantor_id
        if user.role == Role.BIDDER:
            return user.organisation.credit_code == self.applicant_code
        return user.role in OVERSEERS

    def can_manage(self, user) -> bool:
        return user.role == Role.GUARANTOR and user.organisation_id == self.guarantor_id


class GuaranteeClaim(db.Model):
    """A claim (索赔) the guarantor records after award: the winner withdrew after the deadline, refused
    the contract, or gave no performance security."""

    __tablename__ = "guarantee_claim"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guarantee_id: Mapped[int] = mapped_column(ForeignKey("guarantee.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money())
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    guarantee: Mapped[Guarantee] = relationship(back_populates="claims")
