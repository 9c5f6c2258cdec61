"""Sealed bids: a registered bidder submits an envelope sealed to the section's opening key and signed with
its certificate; the platform checks it without being able to read it, keeps it, and answers with a receipt
signed by the platform seal. A bid may be replaced or withdrawn until the deadline; at or after it nothing
is accepted. Numbering receipts per section locks the section's counter row for the last moment of the
transaction only, so submissions racing before a deadline queue there and none is lost or numbered twice.
"""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from accounts.models import User
from core import clock, journal, seal, settings, storage, trust_store
from core.crypto import envelope
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender.models import Bid, Registration, Section


def max_bytes(now: datetime) -> int:
    return settings.value("tender.envelope_max_mb", now) * 1024 * 1024


def _open(section: Section, now: datetime) -> None:
    if section.status != "published" or section.key is None:
        raise DomainError("section_not_open", _("This section is not open: its bid deadline has passed or it is "
                                                "not published."), 409)
    if now >= section.deadline:
        raise DomainError("deadline_passed", _("The bid deadline (%(deadline)s Beijing time) has passed: no bid is "
                                               "accepted any more.",
                                               deadline=clock.local(section.deadline).strftime("%Y-%m-%d %H:%M")), 409)


def current_bid(section: Section, organisation_id: int) -> Bid | None:
    return db.session.scalar(select(Bid).where(Bid.section_id == section.id, Bid.organisation_id == organisation_id,
                                               Bid.status == "submitted"))


def submit(actor: User, section: Section, data: bytes, now: datetime, ip: str, user_agent: str) -> Bid:
    """Accept an envelope received at ``now`` (when its last byte arrived), replacing the bidder's earlier
    one, or refuse it with the envelope's reason code."""
    if actor.role != Role.BIDDER:
        raise DomainError("not_registered", _("Register for the section before submitting a bid."), 403)
    # The bidder's own registration row orders its versions, holding up no other bidder.
    registration = db.session.scalar(select(Registration).where(
        Registration.section_id == section.id, Registration.organisation_id == actor.organisation_id)
        .with_for_update())
    if registration is None:
        raise DomainError("not_registered", _("Register for the section before submitting a bid."), 403)
    _open(section, now)
    if len(data) > max_bytes(now):
        raise DomainError("envelope_too_large", _("The envelope is larger than %(mb)s MB.",
                                                  mb=settings.value("tender.envelope_max_mb", now)), 413)
    # Refused with the envelope's reason code (EnvelopeRefused is a DomainError, 422).
    checked = envelope.check_envelope(data, section_id=section.id, section_code=section.code,
                                      section_public_key=section.key.public_key,
                                      bidder=actor.organisation.credit_code, anchors=trust_store.load(), now=now)
    storage.put(data)  # sealed: the store holds only what the platform cannot read
    earlier = current_bid(section, actor.organisation_id)
    version = (db.session.scalar(select(func.max(Bid.version)).where(
        Bid.section_id == section.id, Bid.organisation_id == actor.organisation_id)) or 0) + 1
    seal_key = seal.ensure(now)
    # Number it last: the section's counter row stays locked only for the signing and the inserts
    # before the commit that follows.
    sequence = db.session.execute(update(Section).where(Section.id == section.id, Section.status == "published")
                                  .values(bid_sequence=Section.bid_sequence + 1)
                                  .returning(Section.bid_sequence)).scalar_one_or_none()
    if sequence is None:
        raise DomainError("section_not_open", _("This section is not open: its bid deadline has passed or it is "
                                                "not published."), 409)
    receipt = envelope.sign_receipt(checked, sequence=sequence, received_at=now, key=seal_key)
    if earlier is not None:
        earlier.status = "replaced"
    bid = Bid(section_id=section.id, organisation_id=actor.organisation_id, user_id=actor.id, version=version,
              sequence=sequence, status="submitted", envelope_sha256=checked.sha256, envelope_size=checked.size,
              certificate_fingerprint=checked.certificate_fingerprint, signer=checked.signer[:500], received_at=now,
              ip_address=(ip or "")[:64], user_agent=(user_agent or "")[:300], receipt=receipt.decode("utf-8"))
    db.session.add(bid)
    db.session.flush()
    journal.record("tender.bid.submitted", "section", section.id,
                   {"bid": bid.id, "bidder": actor.organisation.credit_code, "version": version, "sequence": sequence,
                    "envelope_sha256": checked.sha256, "envelope_size": checked.size,
                    "received_at": envelope.received_at_text(now), "replaces": earlier.id if earlier else None},
                   actor=actor, now=now)
    return bid


def withdraw(actor: User, bid: Bid, now: datetime) -> Bid:
    if bid.status != "submitted":
        raise DomainError("bid_not_current", _("Only the bid currently submitted can be withdrawn."), 409)
    _open(bid.section, now)
    bid.status, bid.withdrawn_at = "withdrawn", now
    journal.record("tender.bid.withdrawn", "section", bid.section_id,
                   {"bid": bid.id, "bidder": actor.organisation.credit_code, "version": bid.version},
                   actor=actor, now=now)
    return bid


def of_bidder(section: Section, organisation_id: int) -> list[Bid]:
    return db.session.scalars(select(Bid).where(Bid.section_id == section.id, Bid.organisation_id == organisation_id)
                              .order_by(Bid.version.desc())).all()


def key_file(section: Section) -> bytes:
    """The section's public key as bidders' tools read it (docs/formats.md)."""
    if section.key is None:
        raise DomainError("section_not_open", _("This section has no opening key: it is not published."), 404)
    return envelope.section_key_file(section_id=section.id, section_code=section.code, suite=section.key.suite,
                                     public_key=section.key.public_key)
