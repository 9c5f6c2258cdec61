"""Open data: sections as OCDS 1.1 release packages (DOMAIN.md "Open data", docs/supervision.md).

Public, so only what is public already: sections published on the platform (imported history never was),
the tender (its base as the tender value, its period from publication to the deadline), the bidders'
names once the opening is over (before that they are secret, DOMAIN.md "Sealed bids"), never a bid price,
and the award (deal amount and date) once awarded. One release per section describes its current state;
its ``id`` changes with that state, so a later export is a later release of the same ``ocid``.
"""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.models import Organisation
from core import clock, settings
from core.extensions import db
from tender.models import Bid, Project, Section

settings.define(settings.Definition(
    "ocds.ocid_prefix", str, "ocds-xxxxxx",
    _l("Prefix of OCDS ids (ocid), as registered with the Open Contracting Partnership"), "", None, None))

VERSION = "1.1"
PUBLISHER = "南京市公共资源交易中心 (Nanjing Public Resource Trading Centre)"
# The unified social credit code (统一社会信用代码) as an org-id scheme.
SCHEME = "CN-USCC"
# Statuses from which the opening is over and the bidders are public.
REVEALED = ("opened", "evaluated", "publicised", "awarded", "contracted", "failed")
AWARDED = ("awarded", "contracted")
TENDER_STATUS = {"published": "active", "closed": "active", "opening": "active", "opened": "active",
                 "evaluated": "active", "publicised": "active", "awarded": "complete", "contracted": "complete",
                 "failed": "unsuccessful", "cancelled": "cancelled"}
# OCDS procurementMethod: open, selective (invited), limited (negotiated with chosen suppliers), direct.
PROCUREMENT_METHOD = {"open": "open", "invited": "selective", "competitive_negotiation": "limited",
                      "competitive_consultation": "limited", "inquiry": "limited", "single_source": "direct"}
METHOD_DETAILS = {"open": "公开招标", "invited": "邀请招标", "competitive_negotiation": "竞争性谈判",
                  "competitive_consultation": "竞争性磋商", "inquiry": "询价", "single_source": "单一来源"}
MAIN_CATEGORY = {"works": "works"}  # procurement may be goods or services: not said


def ocid(section: Section) -> str:
    return f"{settings.value('ocds.ocid_prefix')}-{section.code}"


def _moment(value: datetime | None) -> str | None:
    return None if value is None else clock.local(value).isoformat(timespec="seconds")


def _day(value: date) -> str:
    """An award date (a day in Beijing) as the date-time OCDS asks for: its midnight in Beijing."""
    return datetime.combine(value, time(0), clock.SHANGHAI).isoformat(timespec="seconds")


def _value(amount: Decimal | None) -> dict | None:
    # OCDS amounts are JSON numbers; two-place yuan amounts read back exactly from the shortest repr.
    return None if amount is None else {"amount": float(amount), "currency": "CNY"}


def _party(name: str, code: str, roles: list[str]) -> dict:
    return {"id": f"{SCHEME}-{code}", "name": name, "identifier": {"scheme": SCHEME, "id": code, "legalName": name},
            "roles": roles}


def tenderers(section: Section) -> list[Organisation]:
    """The organisations whose bid stood at the deadline, once the opening is over; none before."""
    if section.status not in REVEALED:
        return []
    return list(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(
            select(Bid.organisation_id).where(Bid.section_id == section.id, Bid.status == "submitted")))
        .order_by(Organisation.credit_code)))


def release(section: Section) -> dict:
    """The release of a published section's current state."""
    project = section.project
    unit = project.procuring_unit
    buyer_code = unit.credit_code if unit else project.procuring_credit_code
    buyer = _party(unit.name if unit else project.procuring_credit_code, buyer_code, ["buyer", "procuringEntity"])
    bidders = tenderers(section)
    parties = [buyer] + [_party(o.name, o.credit_code, ["tenderer"]) for o in bidders]
    tender = {
        "id": section.code, "title": section.name, "status": TENDER_STATUS.get(section.status, "active"),
        "procuringEntity": {"id": buyer["id"], "name": buyer["name"]},
        "procurementMethod": PROCUREMENT_METHOD[section.method],
        "procurementMethodDetails": METHOD_DETAILS[section.method],
        "tenderPeriod": {"startDate": _moment(section.published_at), "endDate": _moment(section.deadline)},
    }
    if section.base_amount is not None and section.base_amount > 0:
        tender["value"] = _value(section.base_amount)
    if section.category in MAIN_CATEGORY:
        tender["mainProcurementCategory"] = MAIN_CATEGORY[section.category]
    if bidders:
        tender["tenderers"] = [{"id": p["id"], "name": p["name"]} for p in parties[1:]]
    if section.bidder_count is not None or bidders:
        tender["numberOfTenderers"] = section.bidder_count if section.bidder_count is not None else len(bidders)
    tags, moment = ["tender"], _moment(section.published_at)
    result = {"ocid": ocid(section), "id": "", "date": moment, "tag": tags, "initiationType": "tender",
              "language": "zh", "parties": parties, "buyer": {"id": buyer["id"], "name": buyer["name"]},
              "tender": tender}
    if section.status in AWARDED and section.deal_amount is not None and section.award_date is not None:
        tags.append("award")
        result["date"] = _day(section.award_date)
        result["awards"] = [{"id": f"{section.code}-award", "status": "active", "date": _day(section.award_date),
                             "value": _value(section.deal_amount)}]
    elif section.status == "failed":
        tags[:] = ["tenderUpdate"]
    elif section.status == "cancelled":
        tags[:] = ["tenderCancellation"]
    result["id"] = f"{section.code}-{section.status}"
    return result


def package(sections: list[Section], uri: str, now: datetime) -> dict:
    return {"uri": uri, "version": VERSION, "publishedDate": _moment(now), "publisher": {"name": PUBLISHER},
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "releases": [release(s) for s in sections]}


def published(section_id: int) -> Section | None:
    section = db.session.get(Section, section_id)
    return section if section is not None and section.is_public and not section.project.historical else None


def published_between(start: date, end: date) -> list[Section]:
    """Sections published on the platform from ``start`` to ``end`` (days in Beijing, both included)."""
    return list(db.session.scalars(
        select(Section).options(selectinload(Section.project).selectinload(Project.procuring_unit))
        .join(Project, Project.id == Section.project_id).where(Project.historical.is_(False))
        .where(Section.published_at >= datetime.combine(start, time(0), clock.SHANGHAI),
                              Section.published_at < datetime.combine(end + timedelta(days=1), time(0),
                                                                      clock.SHANGHAI))
        .order_by(Section.published_at, Section.id)))
