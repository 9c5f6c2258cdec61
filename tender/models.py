"""Projects and their sections (标段), acceptance reviews, notices, registrations, downloads,
clarifications and rooms."""
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint, select
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
    award_date: Mapped[date | None] = mapped_column(Date, index=True)  # Beijing date of the award, or of the failure
    bidder_count: Mapped[int | None] = mapped_column(Integer)
    # Receipts number each section's envelopes in order; the counter row serialises that numbering.
    bid_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Comprehensive scoring (综合评分法): the weights of price, technical and commercial scores (sum 100).
    price_weight: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    technical_weight: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    commercial_weight: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # Publicity (公示) of the candidates: from when, and until when no award may be made.
    publicised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

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

    def can_attend(self, user) -> bool:
        """The opening hall: the centre hosts, supervisors watch, the procuring unit holds a share, and
        bidders with a bid in the section sign in."""
        if user.role in OVERSEERS or self.project.can_manage(user):
            return True
        return user.role == Role.BIDDER and db.session.scalar(
            select(Bid.id).where(Bid.section_id == self.id, Bid.organisation_id == user.organisation_id).limit(1)
        ) is not None


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


class Opening(db.Model):
    """One attempt at opening a section's bids online (不见面开标). An attempt suspended for want of key
    shares is followed by another (``attempt`` 2, 3 …) at a rescheduled time."""

    __tablename__ = "opening"
    __table_args__ = (UniqueConstraint("section_id", "attempt"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="releasing", index=True)  # states.OPENING
    host_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    release_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())  # keyholders' window
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspension_note: Mapped[str] = mapped_column(Text, default="")
    rescheduled_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Decryption: progress as the job goes (total bids, decided so far).
    decrypt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bids_total: Mapped[int] = mapped_column(Integer, default=0)
    bids_decided: Mapped[int] = mapped_column(Integer, default=0)
    decrypted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Fewer than three valid bids: the host's decision (continue | fail) and its ground.
    decision: Mapped[str] = mapped_column(String(20), default="")
    decision_ground: Mapped[str] = mapped_column(Text, default="")
    # The opening record (开标记录): canonical JSON signed with the platform seal (docs/formats.md).
    record: Mapped[str | None] = mapped_column(Text)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    objections_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship(backref=backref("openings", order_by="Opening.attempt"))
    host: Mapped[User] = relationship()
    results: Mapped[list["BidResult"]] = relationship(back_populates="opening", order_by="BidResult.id")
    sign_ins: Mapped[list["SignIn"]] = relationship(back_populates="opening", order_by="SignIn.id")
    responses: Mapped[list["RecordResponse"]] = relationship(back_populates="opening",
                                                              order_by="RecordResponse.id")


class ReleasedShare(db.Model):
    """A keyholder's share released for an opening: opened with the keyholder's PIN and boxed again under a
    key derived from the pepper (outside the database) for the decryption job. The box is dropped when the
    job has decided every bid, or when the attempt is suspended; the row stays: who released when."""

    __tablename__ = "released_share"
    __table_args__ = (UniqueConstraint("opening_id", "key_share_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"), index=True)
    key_share_id: Mapped[int] = mapped_column(ForeignKey("key_share.id"))
    box: Mapped[bytes | None] = mapped_column(LargeBinary)  # dropped once used, or when the attempt ends
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(64), default="")

    key_share: Mapped[KeyShare] = relationship()


class BidResult(db.Model):
    """What the opening found in one bid, decided exactly once per opening: decrypted or not (and then 视为撤销
    when the bidder is to blame, 视为撤回 otherwise), the price and quoted terms, the guarantee's verdict."""

    __tablename__ = "bid_result"
    __table_args__ = (UniqueConstraint("opening_id", "bid_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # opened | deemed_revoked (视为撤销) | deemed_withdrawn (视为撤回)
    cause: Mapped[str] = mapped_column(String(40), default="")  # envelope.OPEN_REASONS code when not opened
    price: Mapped[Decimal | None] = mapped_column(Money())
    terms: Mapped[str] = mapped_column(Text, default="{}")  # JSON object of the quoted terms
    documents: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{name, type, size, sha256}]
    guarantee_id: Mapped[int | None] = mapped_column(ForeignKey("guarantee.id"))
    guarantee_verdict: Mapped[str] = mapped_column(String(40), default="")  # valid | not_required | missing | <code>
    valid: Mapped[bool] = mapped_column(Boolean, default=False)  # opened, and its guarantee holds where asked
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(64), default="")  # where the bid was submitted from

    opening: Mapped[Opening] = relationship(back_populates="results")
    bid: Mapped[Bid] = relationship()
    organisation: Mapped[Organisation] = relationship()
    guarantee: Mapped[Guarantee | None] = relationship()


class SignIn(db.Model):
    """A bidder's sign-in (签到) to an opening."""

    __tablename__ = "opening_sign_in"
    __table_args__ = (UniqueConstraint("opening_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(64), default="")

    opening: Mapped[Opening] = relationship(back_populates="sign_ins")
    organisation: Mapped[Organisation] = relationship()


class RecordResponse(db.Model):
    """A bidder's confirmation of, or objection to, the sealed opening record, and the host's answer."""

    __tablename__ = "record_response"
    __table_args__ = (UniqueConstraint("opening_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20))  # confirm | object
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    opening: Mapped[Opening] = relationship(back_populates="responses")
    organisation: Mapped[Organisation] = relationship()


# Challenges (质疑) and complaints (投诉): tender.challenges, tender.complaints.

CHALLENGE_SUBJECTS = {"documents": _l("The tender documents"), "opening": _l("The opening"),
                      "result": _l("The result (the candidates publicised)")}


def _challenge_party(user, organisation_id: int, section: "Section") -> bool:
    """The challenger (or complainant), the procuring unit, the centre and supervisors: nobody else."""
    if user.role == Role.BIDDER:
        return user.organisation_id == organisation_id
    return section.project.can_view(user)


class Challenge(db.Model):
    """A bidder's challenge of a section's documents, opening or result, and the procuring unit's answer.
    ``due_at`` is the answer's due date, moved by extensions."""

    __tablename__ = "challenge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # the challenger
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    subject: Mapped[str] = mapped_column(String(20))  # documents | opening | result
    grounds: Mapped[str] = mapped_column(Text)
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())  # what the 7 working days were counted from
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(30), default="pending", index=True)
    first_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)  # the challenger's rating of the answer
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the beat told of it once

    section: Mapped[Section] = relationship()
    organisation: Mapped[Organisation] = relationship()
    extensions: Mapped[list["ChallengeExtension"]] = relationship(back_populates="challenge",
                                                                  order_by="ChallengeExtension.number")

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.withdrawn_at is None

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at < now

    def can_view(self, user) -> bool:
        return _challenge_party(user, self.organisation_id, self.section)

    def can_answer(self, user) -> bool:
        return self.section.can_manage(user)

    def can_file(self, user) -> bool:
        """The challenger's own acts: withdrawing, rating the answer, complaining."""
        return user.role == Role.BIDDER and user.organisation_id == self.organisation_id

    def can_supervise(self, user) -> bool:
        return user.role == Role.SUPERVISOR


class ChallengeExtension(db.Model):
    """An extension of a challenge's answer: the first granted by the unit itself, the second requested by
    the unit and approved or refused by a supervisor."""

    __tablename__ = "challenge_extension"
    __table_args__ = (UniqueConstraint("challenge_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 or 2
    days: Mapped[int] = mapped_column(Integer)  # working days
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20))  # granted | requested | approved | refused
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    due_before: Mapped[datetime] = mapped_column(UTCDateTime())
    due_after: Mapped[datetime | None] = mapped_column(UTCDateTime())

    challenge: Mapped[Challenge] = relationship(back_populates="extensions")


class Complaint(db.Model):
    """A bidder's complaint to the supervisor about a challenge's answer, or about no answer by its due
    date. While it is "suspended" the section's procedure waits."""

    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id"), unique=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # the complainant
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    basis: Mapped[str] = mapped_column(String(20))  # answer | unanswered
    grounds: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), default="filed", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the decision's due date
    procedure_suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    procedure_resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))  # upheld | dismissed | withdrawn
    reason: Mapped[str] = mapped_column(Text, default="")
    satisfied: Mapped[bool | None] = mapped_column(Boolean)  # the complainant's rating of the decision
    overdue_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    challenge: Mapped[Challenge] = relationship(backref=backref("complaint", uselist=False))
    section: Mapped[Section] = relationship()
    organisation: Mapped[Organisation] = relationship()

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"

    @property
    def is_open(self) -> bool:
        return self.decided_at is None

    def can_view(self, user) -> bool:
        return _challenge_party(user, self.organisation_id, self.section)

    def can_decide(self, user) -> bool:
        return user.role == Role.SUPERVISOR

    def can_file(self, user) -> bool:
        return user.role == Role.BIDDER and user.organisation_id == self.organisation_id


# Evaluation, award and contract (tender.experts, tender.evaluation, tender.award, tender.contracts).

class ExpertProfile(db.Model):
    """An evaluator's place in the centre's expert pool: the categories the expert may evaluate and the
    organisations (by credit code) the expert works for or is linked to, who are left out of their draws (回避)."""

    __tablename__ = "expert_profile"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    categories: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of CATEGORIES keys
    affiliations: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of credit codes
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Committee(db.Model):
    """A section's evaluation committee, drawn at random: the seed and the eligible experts are kept so
    that anyone may replay the draw (random.Random(seed).sample(candidates, size))."""

    __tablename__ = "committee"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[str] = mapped_column(Text)  # JSON list of the eligible experts' user ids, ascending
    excluded: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{"user": id, "affiliation": code}]
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    section: Mapped[Section] = relationship(backref=backref("committee", uselist=False))
    members: Mapped[list["CommitteeMember"]] = relationship(back_populates="committee",
                                                            order_by="CommitteeMember.position")


class CommitteeMember(db.Model):
    """One drawn expert; the first drawn chairs the committee. ``signed_at``: the member's sign-off of the
    evaluation report."""

    __tablename__ = "committee_member"
    __table_args__ = (UniqueConstraint("committee_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0 = the chair
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    committee: Mapped[Committee] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    @property
    def is_chair(self) -> bool:
        return self.position == 0


class Score(db.Model):
    """A committee member's technical and commercial scores of one valid bid (comprehensive scoring)."""

    __tablename__ = "evaluation_score"
    __table_args__ = (UniqueConstraint("member_id", "bid_result_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id"), index=True)
    bid_result_id: Mapped[int] = mapped_column(ForeignKey("bid_result.id"), index=True)
    technical: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    commercial: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    member: Mapped[CommitteeMember] = relationship()


class Evaluation(db.Model):
    """The committee's evaluation report of a section, signed off by every member and sealed with the
    platform seal (docs/formats.md, "Evaluation report"); ``ranking`` is its list of candidates, best first."""

    __tablename__ = "evaluation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), unique=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"))
    method: Mapped[str] = mapped_column(String(30))
    ranking: Mapped[str] = mapped_column(Text)  # JSON [{rank, bid_result, organisation, price, score, …}]
    report: Mapped[str] = mapped_column(Text)  # the sealed report file
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship(backref=backref("evaluation", uselist=False))


class Award(db.Model):
    """The procuring unit's award (定标): the winner, the award notice (中标通知书) sealed with the platform seal
    (docs/formats.md, "Award notice") and the public result announcement."""

    __tablename__ = "award"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), unique=True)
    bid_result_id: Mapped[int] = mapped_column(ForeignKey("bid_result.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # the winner
    rank: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")  # why not the first candidate
    amount: Mapped[Decimal] = mapped_column(Money())
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    awarded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    notice: Mapped[str] = mapped_column(Text)  # the sealed award notice file
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))

    section: Mapped[Section] = relationship(backref=backref("award", uselist=False))
    organisation: Mapped[Organisation] = relationship()
    announcement: Mapped[Notice | None] = relationship()


class Contract(db.Model):
    """The contract signed with the winner, as the procuring unit records it; published. ``late``: signed
    more than 30 days after the award notice."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), unique=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    signed_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    performance_security: Mapped[bool] = mapped_column(Boolean)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    section: Mapped[Section] = relationship(backref=backref("contract", uselist=False))


class Breach(db.Model):
    """The winner's breach, recorded by the procuring unit: it withdrew, refused to sign the contract or gave
    no performance security. Lets the guarantor of its bid record a claim (tender.guarantees.claim)."""

    __tablename__ = "breach"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # guarantees.CLAIM_TRIGGERS keys
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    organisation: Mapped[Organisation] = relationship()
