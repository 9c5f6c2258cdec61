"""Open data routes: public OCDS release packages of one section and of the sections published in a period."""
import json
import re

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _

from core import clock
from core.errors import DomainError
from supervision import ocds, statistics
from supervision.views import supervision_bp

PERIOD = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$")


def _json(document: dict, filename: str) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def parse_period(raw: str):
    """'2025', '2025-H1', '2025-Q2' or '2025-03' as (first day, last day)."""
    match = PERIOD.match(raw or "")
    if not match:
        raise DomainError("period_invalid", _("Choose the period like 2025, 2025-H1, 2025-Q2 or 2025-03."), 400)
    year, part = int(match.group(1)), match.group(2)
    if part is None:
        return statistics.period_bounds("year", year)
    if part[0] in "HQ":
        return statistics.period_bounds("half" if part[0] == "H" else "quarter", year * 10 + int(part[1]))
    return statistics.period_bounds("month", year * 100 + int(part))


@supervision_bp.get("/open-data")
def open_data():
    today = clock.today_local()
    periods = [f"{today.year}", f"{today.year}-Q{(today.month + 2) // 3}", f"{today.year - 1}"]
    return render_template("supervision/ocds.html", periods=periods)


@supervision_bp.get("/open-data/sections/<int:section_id>.json")
def ocds_section(section_id: int):
    section = ocds.published(section_id)
    if section is None:
        abort(404)
    return _json(ocds.package([section], request.url, clock.now()), f"{ocds.ocid(section)}.json")


@supervision_bp.get("/open-data/releases.json")
def ocds_releases():
    raw = request.args.get("period", "")
    start, end = parse_period(raw)
    sections = ocds.published_between(start, end)
    if not sections:  # a release package holds at least one release
        raise DomainError("no_releases", _("No section was published in %(period)s.", period=raw), 404)
    return _json(ocds.package(sections, url_for("supervision.ocds_releases", period=raw, _external=True), clock.now()),
                 f"ocds-{raw}.json")
