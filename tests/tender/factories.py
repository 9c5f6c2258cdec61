"""Projects and sections at each stage, made through the services as a procuring unit and the centre would."""
from datetime import timedelta
from decimal import Decimal

from core import clock
from core.crypto import guarantee as g, pki
from core.crypto.signing import TrustAnchors
from core.extensions import db
from tender import acceptance, checklists, projects, publication

PDF = b"%PDF-1.4\n% a tender document\n"


def pdf(name: str = "doc.pdf", text: str = "") -> tuple[str, bytes]:
    return name, PDF + text.encode()


SECTION = {"name": "教学楼改造 一标段", "method": "open", "base_amount": "1000000.00", "guarantee_amount": "20000.00",
           "bid_validity_days": 90, "evaluation_method": "lowest_price"}


def make_project(user, *, name="南京市第一中学教学楼改造", category="works", green=False, sections=1, now=None):
    now = now or clock.now()
    project = projects.create(user, name=name, category=category, region_code="320100", green_channel=green,
                              green_channel_reason="抢险救灾" if green else "",
                              sections=[{**SECTION, "name": f"{name} {i + 1}标段"} for i in range(sections)], now=now)
    for item in checklists.checklist(category):
        projects.add_document(user, project, item.key, f"{item.key}.pdf", PDF + item.key.encode(), now)
    return project


def all_ok(project) -> dict:
    return {i.key: ("ok", "") for i in checklists.checklist(project.category)}


def accept(centre, project, now=None):
    acceptance.decide(centre, project, outcome="accept", verdicts=all_ok(project), now=now or clock.now())


def publish(centre, section, *, days=21, now=None):
    now = now or clock.now()
    return publication.publish(centre, section, title=f"{section.name} 招标公告", body="公告正文",
                               deadline=now + timedelta(days=days), documents=[pdf("招标文件.pdf")], now=now)


class GuarantorPki:
    """A CA of its own (as `flask pki make-ca` makes one) and guarantors' certificates from it (`flask pki
    issue`); ``anchors`` is the trust store holding it, ``install()`` writes it into the configured one."""

    def __init__(self, now=None):
        self.now = now or clock.now()
        self.ca_key, self.ca = pki.make_ca("Test Guarantee CA", "Test Certification Authority",
                                           self.now - timedelta(days=30))
        self.crl = pki.make_crl(self.ca_key, self.ca, self.now)

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors([self.ca], [self.crl])

    def certify(self, organisation, algorithm="p256", **options):
        """(key, certificate) for ``organisation``'s signer; options as pki.issue_signing_certificate's."""
        key = pki.new_signing_key(algorithm)
        return key, pki.issue_signing_certificate(self.ca_key, self.ca, key.public_key(), "保函签章", organisation.name,
                                                  self.now, credit_code=organisation.credit_code, **options)

    def revoke(self, certificate, when=None):
        self.crl = pki.revoke(self.ca_key, self.ca, self.crl, certificate.serial_number, when or clock.now())

    def install(self):
        """Into the trust store folder the app reads (tests point TRUST_STORE_DIR at a folder of their own)."""
        from core import trust_store
        folder = trust_store.folder()
        (folder / f"{pki.fingerprint(self.ca)}.pem").write_text(pki.pem(self.ca))
        (folder / f"{pki.fingerprint(self.ca)}.crl").write_bytes(pki.crl_pem(self.crl))


def guarantee_file(signer, guarantor, section, bidder, **changes) -> bytes:
    """The signed guarantee file a guarantor issues for ``bidder``'s bid on ``section``: every field right
    unless ``changes`` says otherwise (guarantee_body's arguments)."""
    key, certificate = signer
    unit = section.project.procuring_unit
    fields = dict(number=f"BH-{section.code}-{bidder.credit_code[-6:]}",
                  guarantor=g.Party(guarantor.name, guarantor.credit_code),
                  applicant=g.Party(bidder.name, bidder.credit_code),
                  beneficiary=g.Party(unit.name, unit.credit_code), project_code=section.project.code,
                  section_code=section.code, amount=Decimal(section.guarantee_amount),
                  valid_from=section.published_at, valid_to=section.deadline + timedelta(days=section.bid_validity_days + 30),
                  issued_at=clock.now(), letter_sha256=None)
    fields.update(changes)
    return g.sign_guarantee(g.guarantee_body(**fields), key, [certificate])


def make_guarantor(name: str, first17: str):
    """A guarantor organisation of its own with one user (username = the code's first 17 characters)."""
    from accounts import auth, credit_code
    from accounts.models import OrgKind, Organisation, User
    from core.permissions import Role
    now = clock.now()
    org = Organisation(name=name, credit_code=credit_code.complete(first17), kind=OrgKind.GUARANTOR,
                       region_code="320100", status="approved", contact_phone="025-00000000", registered_at=now,
                       decided_at=now, decision_reason="")
    user = User(organisation=org, username=f"g{first17}", name=f"{name} 经办人", role=Role.GUARANTOR,
                email=f"g{first17}@example.cn", status="active", password_hash=auth.hash_password("guarantor-pass-2026"),
                created_at=now, failed_logins=0, locked=False)
    db.session.add_all([org, user])
    db.session.flush()
    return user


def issue_guarantee(guarantor_user, section, bidder, pki_=None, **changes):
    """A guarantee issued through the service, signed with a certificate of ``pki_`` (a new CA if none)."""
    from tender import guarantees
    pki_ = pki_ or GuarantorPki()
    signer = pki_.certify(guarantor_user.organisation)
    signed = guarantee_file(signer, guarantor_user.organisation, section, bidder, **changes)
    return guarantees.issue(guarantor_user, signed, clock.now(), anchors=pki_.anchors)


class Scenario:
    """What the tender routes take ids of, for one procuring ``unit`` and one ``bidder``, made through the
    services: project A with a published section (a tender document, ``bidder`` registered and asking a
    question, a room booked for the opening, an electronic guarantee for ``bidder`` by ``guarantor`` (a
    guarantor organisation of its own if none is given)), an accepted section waiting for publication and a
    failed one, and a finding of an earlier return; project B accepted with a gap the unit has supplied."""

    def __init__(self, demo, unit, bidder, guarantor=None):
        from tender import participation, rooms
        centre, now = demo["centre"], clock.now()
        self.project = make_project(unit, name=f"{unit.username} 项目", sections=3)
        projects.submit(unit, self.project, now)
        verdicts = {**all_ok(self.project), "funding": ("missing", "")}
        self.finding = acceptance.decide(centre, self.project, outcome="return", verdicts=verdicts,
                                         now=now).findings[0]
        projects.submit(unit, self.project, now)
        accept(centre, self.project, now)
        self.section, self.unpublished, self.failed = self.project.sections
        self.notice = publish(centre, self.section, now=now)
        publish(centre, self.failed, now=now)
        publication.move(None, self.failed, "close", now)
        publication.fail(centre, self.failed, "无人投标", now)
        self.project_document = self.project.documents[0]
        self.notice_document = self.notice.documents[0]
        participation.register(bidder, self.section, now)
        self.clarification = participation.ask(bidder, self.section, "工期能否延长？", now)
        self.room = rooms.create_room(centre, f"开标室 {unit.username}", "opening", 30, now)
        self.booking = rooms.book(centre, self.room, starts_at=self.section.deadline,
                                  ends_at=self.section.deadline + timedelta(hours=2), purpose="开标",
                                  section=self.section, now=now)
        self.gapped = make_project(unit, name=f"{unit.username} 容缺项目")
        projects.submit(unit, self.gapped, now)
        acceptance.decide(centre, self.gapped, outcome="accept_with_gaps",
                          verdicts={**all_ok(self.gapped), "drawings": ("missing", "")},
                          gaps_due=clock.today_local() + timedelta(days=5), now=now)
        self.gap = self.gapped.open_gaps()[0]
        projects.add_document(unit, self.gapped, "drawings", "drawings.pdf", PDF + b"supplied", now)
        guarantor = guarantor or make_guarantor(f"{unit.username} 融资担保有限公司", f"91320100MA1G{unit.id:05d}")
        self.guarantee = issue_guarantee(guarantor, self.section, bidder.organisation)
        self.bid = self._bid(bidder, now)
        db.session.commit()

    def _bid(self, bidder, now):
        """A sealed bid of ``bidder``, checked against a demo CA put in a trust store of its own."""
        import tempfile
        from pathlib import Path

        from flask import current_app

        from tender import bids
        saved = current_app.config["TRUST_STORE_DIR"]
        try:
            pki = BidderPki(current_app, Path(tempfile.mkdtemp()) / "trust")
            return bids.submit(bidder, self.section, pki.seal(self.section, bidder), now, "192.0.2.1", "test")
        finally:
            current_app.config["TRUST_STORE_DIR"] = saved

    IDS = {"project_id", "section_id", "finding_id", "clarification_id", "room_id", "booking_id", "document_id",
           "guarantee_id", "bid_id"}

    def object_for(self, name: str, rule: str):
        """The object a route's id names: each route gets one it can act on."""
        if "/gaps/" in rule:
            return {"project_id": self.gapped, "finding_id": self.gap}[name]
        if name == "document_id":
            return self.project_document if "/projects/" in rule else self.notice_document
        if name == "section_id" and "/publish" in rule:
            return self.unpublished
        if name == "section_id" and "/retender" in rule:
            return self.failed
        return getattr(self, name.removesuffix("_id"))


class BidderPki:
    """A demo CA in the platform's trust store, and signing certificates for bidders made by it (the
    functions behind `flask pki`), to seal real envelopes as the bidder's tool does."""

    def __init__(self, app, folder):
        from core.crypto import pki
        app.config["TRUST_STORE_DIR"] = str(folder)
        self.now = clock.now()
        self.ca_key, self.ca = pki.make_ca("Demo Bidder CA", "Demo Certification Authority",
                                           self.now - timedelta(days=30))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "demo-ca.pem").write_text(pki.pem(self.ca))
        self.holders = {}

    def holder(self, user):
        """(signing key, certificate) of the user's organisation, made once."""
        from core.crypto import pki
        org = user.organisation
        if org.id not in self.holders:
            key = pki.new_signing_key("p256")
            certificate = pki.issue_signing_certificate(self.ca_key, self.ca, key.public_key(), user.name, org.name,
                                                        self.now, credit_code=org.credit_code)
            self.holders[org.id] = (key, certificate)
        return self.holders[org.id]

    def seal(self, section, user, price="1234567.89", marker: str = "", now=None, section_for_binding=None) -> bytes:
        """An envelope for ``section`` by ``user``'s organisation, carrying ``marker`` in its terms and document."""
        from core.crypto import envelope
        key, certificate = self.holder(user)
        bound = section_for_binding or section
        content = envelope.pack_content(price, {"工期": f"180 天 {marker}"},
                                        [envelope.Document("投标文件.pdf", "application/pdf",
                                                           b"%PDF-1.4 " + marker.encode() * 3)])
        return envelope.seal_bid(suite=section.key.suite, section_public_key=section.key.public_key,
                                 section_id=str(bound.id), section_code=bound.code,
                                 bidder=user.organisation.credit_code, content=content, signing_key=key,
                                 certificates=[certificate], now=now or clock.now())
