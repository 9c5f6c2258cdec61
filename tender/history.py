"""Importing completed sections run before the platform, for the statistics: all rows or none.

The file is CSV in UTF-8 (a BOM is fine, as spreadsheet programs write one), with a header row naming
the columns in COLUMNS. Rows sharing a project code form one project. A row without a deal amount is a
failed section (流标) decided on its award date. Every bad row is reported with its line and why, and a
file with any bad row changes nothing.
"""
import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from accounts import credit_code
from accounts.models import Organisation, Region, User
from core import journal
from core.errors import DomainError
from core.extensions import db
from tender.models import CATEGORIES, METHODS, Project, Section
from tender.projects import amount

COLUMNS = ("project_code", "project_name", "section_code", "section_name", "category", "region_code", "method",
           "procuring_unit_credit_code", "base_amount", "deal_amount", "award_date", "bidder_count")
# Spreadsheets exported from older systems name categories and methods in Chinese.
CATEGORY_NAMES = {"工程建设": "works", "政府采购": "procurement", "其他": "other"}
METHOD_NAMES = {"公开招标": "open", "邀请招标": "invited", "竞争性谈判": "competitive_negotiation",
                "竞争性磋商": "competitive_consultation", "询价": "inquiry", "单一来源": "single_source"}
MAX_ROWS = 100_000


@dataclass
class Report:
    rows: int = 0
    projects: int = 0
    sections: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


class ImportRefused(DomainError):
    def __init__(self, report: Report):
        wrong = len({line for line, _m in report.errors})
        super().__init__("import_refused", ngettext("Nothing was imported: %(num)s row is wrong. Correct it and import "
                                                    "the whole file again.",
                                                    "Nothing was imported: %(num)s rows are wrong. Correct them and "
                                                    "import the whole file again.", wrong), 422)
        self.report = report


def _parse(raw: bytes, report: Report) -> list[tuple[int, dict]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append((1, _("The file is not UTF-8 text: save it as CSV UTF-8.")))
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append((1, _("The header lacks the columns: %(columns)s.", columns=", ".join(missing))))
        return []
    rows = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            report.errors.append((reader.line_num, _("At most %(n)s rows per file.", n=MAX_ROWS)))
            break
        if None in row:
            report.errors.append((reader.line_num, _("The row has more cells than the header.")))
            continue
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return rows


def _check(line: int, row: dict, report: Report) -> dict | None:
    problems = []

    def need(name, message):
        if not row[name]:
            problems.append(message)

    need("project_code", _("project_code is empty"))
    need("project_name", _("project_name is empty"))
    need("section_code", _("section_code is empty"))
    need("section_name", _("section_name is empty"))
    for name, limit in (("project_code", 40), ("section_code", 50), ("project_name", 200), ("section_name", 200)):
        if len(row[name]) > limit:
            problems.append(_("%(column)s is longer than %(n)s characters", column=name, n=limit))
    category = CATEGORY_NAMES.get(row["category"], row["category"])
    if category not in CATEGORIES:
        problems.append(_("category %(value)s is not one of works, procurement, other (工程建设, 政府采购, 其他)",
                          value=repr(row["category"])))
    method = METHOD_NAMES.get(row["method"], row["method"])
    if method not in METHODS:
        problems.append(_("method %(value)s is not a procurement method", value=repr(row["method"])))
    if db.session.get(Region, row["region_code"]) is None:
        problems.append(_("region_code %(value)s is not an administrative division", value=repr(row["region_code"])))
    code = credit_code.normalise(row["procuring_unit_credit_code"])
    if credit_code.problem(code):
        problems.append(_("procuring_unit_credit_code %(value)s is not a valid unified social credit code",
                          value=repr(row["procuring_unit_credit_code"])))
    parsed = {}
    for name in ("base_amount", "deal_amount"):
        try:
            parsed[name] = amount(row[name], "x", name, required=False)
        except DomainError:
            problems.append(_("%(column)s %(value)s is not an amount in yuan", column=name, value=repr(row[name])))
    try:
        award_date = date.fromisoformat(row["award_date"])
    except ValueError:
        award_date = None
        problems.append(_("award_date %(value)s is not a date like 2025-06-30", value=repr(row["award_date"])))
    bidders = None
    if row["bidder_count"]:
        if row["bidder_count"].isdigit() and int(row["bidder_count"]) <= 10000:
            bidders = int(row["bidder_count"])
        else:
            problems.append(_("bidder_count %(value)s is not a whole number", value=repr(row["bidder_count"])))
    if problems:
        report.errors.extend((line, p) for p in problems)
        return None
    return {**row, "category": category, "method": method, "credit_code": code, "award_date": award_date,
            "bidder_count": bidders, **parsed}


def import_csv(actor: User | None, raw: bytes, now: datetime) -> Report:
    """Import every row or none; raises ImportRefused with the report of every bad row."""
    report = Report()
    rows = _parse(raw, report)
    report.rows = len(rows)
    checked = [(line, _check(line, row, report)) for line, row in rows]
    seen_sections: dict[str, int] = {}
    projects: dict[str, dict] = {}
    for line, row in checked:
        if row is None:
            continue
        if row["section_code"] in seen_sections:
            report.errors.append((line, _("section_code %(code)s appears also on line %(other)s",
                                          code=row["section_code"], other=seen_sections[row["section_code"]])))
        seen_sections.setdefault(row["section_code"], line)
        first = projects.setdefault(row["project_code"], row)
        if first is not row and (first["project_name"], first["credit_code"]) != (row["project_name"], row["credit_code"]):
            report.errors.append((line, _("project %(code)s has another name or procuring unit on an earlier line",
                                          code=row["project_code"])))
    if projects:
        taken = set(db.session.scalars(select(Project.code).where(Project.code.in_(list(projects)))))
        taken_sections = set(db.session.scalars(select(Section.code).where(Section.code.in_(list(seen_sections)))))
        for line, row in checked:
            if row and row["project_code"] in taken:
                report.errors.append((line, _("project %(code)s is on the platform already", code=row["project_code"])))
            if row and row["section_code"] in taken_sections:
                report.errors.append((line, _("section %(code)s is on the platform already", code=row["section_code"])))
    if not rows and not report.errors:
        report.errors.append((1, _("The file has no rows.")))
    if report.errors:
        report.errors.sort(key=lambda e: e[0])
        raise ImportRefused(report)

    units = {o.credit_code: o.id for o in db.session.scalars(
        select(Organisation).where(Organisation.credit_code.in_({r["credit_code"] for _l, r in checked})))}
    made: dict[str, Project] = {}
    for _line, row in checked:
        project = made.get(row["project_code"])
        if project is None:
            project = Project(code=row["project_code"], name=row["project_name"], category=row["category"],
                              region_code=row["region_code"], procuring_credit_code=row["credit_code"],
                              procuring_unit_id=units.get(row["credit_code"]), status="accepted", historical=True,
                              created_at=now, created_by_id=actor.id if actor else None)
            db.session.add(project)
            made[row["project_code"]] = project
        failed = row["deal_amount"] is None
        db.session.add(Section(project=project, code=row["section_code"], name=row["section_name"],
                               category=row["category"], region_code=row["region_code"], method=row["method"],
                               base_amount=row["base_amount"], guarantee_amount=Decimal("0"),
                               evaluation_method="lowest_price", status="failed" if failed else "awarded",
                               deal_amount=row["deal_amount"], award_date=row["award_date"],
                               bidder_count=row["bidder_count"]))
        report.sections += 1
        report.failed += failed
    report.projects = len(made)
    db.session.flush()
    journal.record("tender.history.imported", "import", now.strftime("%Y%m%dT%H%M%S"),
                   {"projects": report.projects, "sections": report.sections, "failed": report.failed,
                    "file_sha256": hashlib.sha256(raw).hexdigest(),
                    # The months the statistics must take in again (supervision reads the journal).
                    "award_months": sorted({f"{r['award_date']:%Y-%m}" for _l, r in checked if r["award_date"]})},
                   actor=actor, now=now)
    return report
