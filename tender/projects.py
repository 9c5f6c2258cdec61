"""Procuring units register projects with their sections and application documents, and submit them
for acceptance."""
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import Region, User
from core import journal, uploads
from core.crypto import sealing
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import checklists, states
from tender.models import CATEGORIES, EVALUATION_METHODS, METHODS, SEALING_SUITES, Project, ProjectDocument, Section

MAX_AMOUNT = Decimal("9999999999999999.99")  # what Numeric(18, 2) holds


def _text(value, code: str, label: str, maximum: int) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise DomainError(code, _("%(field)s must be text.", field=label))
    if not value:
        raise DomainError(code, _("%(field)s is required.", field=label))
    if len(value) > maximum:
        raise DomainError(code, _("%(field)s has at most %(n)s characters.", field=label, n=maximum))
    return value


def amount(value, code: str, label: str, *, required: bool = True, positive: bool = False) -> Decimal | None:
    """A sum of money in yuan with at most two decimal places, from a form or JSON (a string or number)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(code, _("%(field)s is required.", field=label))
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise DomainError(code, _("%(field)s must be an amount in yuan, such as 1250000.00.", field=label))
    try:
        parsed = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise DomainError(code, _("%(field)s must be an amount in yuan, such as 1250000.00.", field=label)) from None
    if not parsed.is_finite() or parsed.as_tuple().exponent < -2 or parsed < 0 or parsed > MAX_AMOUNT \
            or (positive and parsed == 0):
        raise DomainError(code, _("%(field)s must be an amount in yuan, such as 1250000.00.", field=label))
    return parsed.quantize(Decimal("0.01"))


def _choice(value, options: dict, code: str, label: str) -> str:
    if value not in options:
        raise DomainError(code, _("Choose one of the offered values for %(field)s.", field=label))
    return value


def _region(code) -> str:
    if not isinstance(code, str) or db.session.get(Region, code) is None:
        raise DomainError("region_unknown", _("Choose a region from the list of administrative divisions."))
    return code


def create(actor: User, *, name, category, region_code, green_channel: bool = False, green_channel_reason="",
           sealing_suite=sealing.DEFAULT_SUITE, sections: list[dict] | None = None, now: datetime) -> Project:
    """A draft project of the actor's procuring unit, with any sections given (see ``add_section``)."""
    if actor.role != Role.PROCURING:
        raise DomainError("not_procuring_unit", _("Only a procuring unit registers projects."), 403)
    reason = (green_channel_reason or "").strip() if isinstance(green_channel_reason, str) else ""
    if green_channel and not reason:
        raise DomainError("green_channel_reason", _("Say why the project needs the green channel (绿色通道)."))
    project = Project(code="", name=_text(name, "name_invalid", _("The project name"), 200),
                      category=_choice(category, CATEGORIES, "category_invalid", _("category")),
                      region_code=_region(region_code), green_channel=bool(green_channel),
                      green_channel_reason=reason[:300],
                      sealing_suite=_choice(sealing_suite, SEALING_SUITES, "sealing_suite_invalid", _("sealing")),
                      procuring_unit_id=actor.organisation_id,
                      procuring_credit_code=actor.organisation.credit_code, status="draft", created_at=now,
                      created_by_id=actor.id)
    db.session.add(project)
    db.session.flush()
    # The code names the region, the year and the project: unique without a counter to contend for.
    project.code = f"P{project.region_code}-{now.year}-{project.id:05d}"
    journal.record("tender.project.created", "project", project.id,
                   {"code": project.code, "name": project.name, "category": project.category,
                    "green_channel": project.green_channel}, actor=actor, now=now)
    for fields in sections or []:
        if not isinstance(fields, dict) or not set(fields) <= set(SECTION_FIELDS):
            raise DomainError("section_invalid", _("Each section is an object of its fields: %(fields)s.",
                                                   fields=", ".join(SECTION_FIELDS)))
        add_section(actor, project, now=now, **({f: None for f in SECTION_FIELDS} | fields))
    return project


SECTION_FIELDS = ("name", "method", "base_amount", "guarantee_amount", "bid_validity_days", "evaluation_method",
                  "region_code", "price_weight", "technical_weight", "commercial_weight")
DEFAULT_WEIGHTS = (30, 60, 10)  # price, technical, commercial: comprehensive scoring's weights unless the unit sets them


def scoring_weights(price_weight, technical_weight, commercial_weight) -> tuple[int, int, int]:
    """Comprehensive scoring's three weights: whole numbers adding up to 100, price counting (> 0); all three
    left out: the defaults."""
    given = (price_weight, technical_weight, commercial_weight)
    if all(w is None or w == "" for w in given):
        return DEFAULT_WEIGHTS
    weights = tuple(int(w) if isinstance(w, str) and w.strip().isdigit() else w for w in given)
    if any(isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 100 for w in weights) \
            or sum(weights) != 100 or weights[0] == 0:
        raise DomainError("weights_invalid", _("The price, technical and commercial weights are whole numbers that add "
                                               "up to 100, the price weight above 0."))
    return weights


def add_section(actor: User, project: Project, *, name, method, base_amount, guarantee_amount,
                bid_validity_days, evaluation_method, region_code=None, price_weight=None, technical_weight=None,
                commercial_weight=None, now: datetime) -> Section:
    if project.status not in ("draft", "returned"):
        raise DomainError("project_locked", _("Sections can be added only before the project is submitted."), 409)
    base = amount(base_amount, "base_amount_invalid", _("The control price or budget"), positive=True)
    guarantee = amount(guarantee_amount, "guarantee_amount_invalid", _("The bid guarantee amount"))
    if guarantee > base * Decimal("0.02"):
        # 招标投标法实施条例 art. 26: a bid guarantee may not exceed 2% of the estimated price.
        raise DomainError("guarantee_too_high", _("The bid guarantee may not exceed %(share)s of the control price or budget.", share="2%"))
    if isinstance(bid_validity_days, str) and bid_validity_days.strip().isdigit():
        bid_validity_days = int(bid_validity_days)
    if isinstance(bid_validity_days, bool) or not isinstance(bid_validity_days, int) \
            or not 30 <= bid_validity_days <= 365:
        raise DomainError("bid_validity_invalid", _("Bid validity is a whole number of days from 30 to 365."))
    weights = scoring_weights(price_weight, technical_weight, commercial_weight)
    section = Section(project=project, code="", name=_text(name, "name_invalid", _("The section name"), 200),
                      category=project.category, method=_choice(method, METHODS, "method_invalid", _("method")),
                      region_code=_region(region_code or project.region_code), base_amount=base,
                      guarantee_amount=guarantee, bid_validity_days=bid_validity_days,
                      evaluation_method=_choice(evaluation_method, EVALUATION_METHODS, "evaluation_method_invalid",
                                                _("evaluation method")),
                      price_weight=weights[0], technical_weight=weights[1], commercial_weight=weights[2],
                      status="draft")
    db.session.add(section)
    db.session.flush()
    section.code = f"{project.code}-{len(project.sections):02d}"
    journal.record("tender.section.created", "section", section.id,
                   {"project": project.code, "code": section.code, "name": section.name, "method": section.method,
                    "base_amount": section.base_amount, "guarantee_amount": section.guarantee_amount,
                    "bid_validity_days": section.bid_validity_days,
                    "evaluation_method": section.evaluation_method,
                    "weights": {"price": weights[0], "technical": weights[1], "commercial": weights[2]}},
                   actor=actor, now=now)
    return section


def add_document(actor: User, project: Project, item: str, filename: str, data: bytes, now: datetime) -> ProjectDocument:
    """An application document for one checklist item, while the unit may still change the application
    (or, after 容缺受理, to supply a gap)."""
    if checklists.item(project.category, item) is None:
        raise DomainError("checklist_item_unknown", _("Choose which required material this document is."))
    gap_items = {f.item for f in project.open_gaps()}
    if project.status not in ("draft", "returned") and not (project.status == "accepted_with_gaps" and item in gap_items):
        raise DomainError("project_locked", _("Documents can be added only before the project is submitted, or to "
                                              "supply a gap the centre named."), 409)
    upload = uploads.store(filename, data)
    document = ProjectDocument(project=project, item=item, filename=upload.filename, content_type=upload.content_type,
                               size=upload.size, sha256=upload.sha256, uploaded_at=now, uploaded_by_id=actor.id)
    db.session.add(document)
    db.session.flush()
    journal.record("tender.project.document_added", "project", project.id,
                   {"item": item, "filename": document.filename, "sha256": document.sha256, "size": document.size},
                   actor=actor, now=now)
    return document


def move_with_sections(actor, project: Project, action: str, now: datetime, payload: dict | None = None) -> None:
    """Move the project and every section taking part in its acceptance; journal each move (the one way a
    project's status changes)."""
    before = project.status
    states.advance(states.PROJECT, project, action, "project")
    journal.record(f"tender.project.{action}", "project", project.id,
                   {"from": before, "to": project.status, **(payload or {})}, actor=actor, now=now)
    for section in project.sections:
        if section.status in states.LIVE_BEFORE_PUBLICATION:
            section_before = section.status
            states.advance(states.SECTION, section, action, "section")
            journal.record(f"tender.section.{action}", "section", section.id,
                           {"from": section_before, "to": section.status}, actor=actor, now=now)


def submit(actor: User, project: Project, now: datetime) -> Project:
    states.require(states.PROJECT, project, "submit", "project")
    if not any(s.status != "cancelled" for s in project.sections):
        raise DomainError("no_sections", _("Add at least one section (标段) before submitting the project."))
    move_with_sections(actor, project, "submit", now)
    project.submitted_at = now
    return project


def cancel(actor: User, project: Project, reason: str, now: datetime) -> Project:
    move_with_sections(actor, project, "cancel", now, {"reason": (reason or "").strip()[:500]})
    return project


def mine(actor: User):
    return select(Project).where(Project.procuring_unit_id == actor.organisation_id).order_by(Project.id.desc())
