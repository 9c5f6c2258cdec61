"""Red flags: the list with its filters and counts by procuring unit and period, a flag with its evidence and
the supervisor's decision, and a recomputation over the whole history with its progress (supervision.red_flags).
Supervisors and admins read; only supervisors decide and recompute."""
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from core import clock, journal
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.oncommit import queue_run
from core.permissions import Role, area_required, roles_required
from supervision import red_flags, states, workspace
from supervision.models import RedFlag, RedFlagRun
from supervision.views import supervision_bp
from tender.models import Section

PAGE_SIZE = 100
STATUSES = tuple(states.STATE_LABELS)


class DecisionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class RecomputeForm(FlaskForm):
    pass


def _filters() -> dict:
    args = request.args
    return {"kind": args.get("kind", "") if args.get("kind", "") in red_flags.KINDS else "",
            "status": args.get("status", "") if args.get("status", "") in STATUSES else "",
            "unit": args.get("unit", "").strip()[:18],
            "period": args.get("period", "").strip()[:7]}


def _flag(flag_id: int) -> RedFlag:
    flag = db.session.scalar(workspace.red_flags_in_region(select(RedFlag).where(RedFlag.id == flag_id), current_user))
    if flag is None:
        abort(404)
    return flag


def _where(query, filters: dict, viewer):
    query = workspace.red_flags_in_region(query, viewer)
    if filters["kind"]:
        query = query.where(RedFlag.kind == filters["kind"])
    if filters["status"]:
        query = query.where(RedFlag.status == filters["status"])
    if filters["unit"]:
        query = query.where(RedFlag.unit_code == filters["unit"])
    if filters["period"]:
        query = query.where(RedFlag.period.startswith(filters["period"], autoescape=True))
    return query


def counts(filters: dict, by_year: bool, viewer) -> list:
    """Flags (and of them open) per procuring unit and period (month or year), counted in SQL."""
    period = func.substr(RedFlag.period, 1, 4) if by_year else RedFlag.period
    query = (select(RedFlag.unit_code, func.max(RedFlag.unit_name).label("unit_name"), period.label("period"),
                    func.count().label("flags"),
                    func.sum(case((RedFlag.status == "open", 1), else_=0)).label("open"))
             .group_by(RedFlag.unit_code, period).order_by(period.desc(), func.count().desc(), RedFlag.unit_code))
    return db.session.execute(_where(query, filters, viewer)).all()


@supervision_bp.get("/red-flags")
@area_required("supervision")
def red_flag_list():
    filters = _filters()
    query = _where(select(RedFlag), filters, current_user).order_by(RedFlag.occurred_at.desc(), RedFlag.id.desc())
    before = request.args.get("before", type=int)
    if before:
        query = query.where(RedFlag.id < before)
    flags = list(db.session.scalars(query.limit(PAGE_SIZE)))
    sections = {s.id: s for s in db.session.scalars(
        select(Section).where(Section.id.in_({f.section_id for f in flags if f.section_id})))}
    by_year = request.args.get("by") == "year"
    return render_template("supervision/red_flags.html", flags=flags, sections=sections, filters=filters,
                           kinds=red_flags.KINDS, statuses=states.STATE_LABELS, counts=counts(filters, by_year, current_user),
                           by_year=by_year, form=RecomputeForm(),
                           runs=list(db.session.scalars(select(RedFlagRun).order_by(RedFlagRun.id.desc()).limit(3))),
                           may_act=current_user.role == Role.SUPERVISOR)


@supervision_bp.get("/red-flags/<int:flag_id>")
@area_required("supervision")
def red_flag(flag_id: int):
    flag = _flag(flag_id)
    return render_template("supervision/red_flag.html", flag=flag, evidence=flag.data, kinds=red_flags.KINDS,
                           statuses=states.STATE_LABELS, form=DecisionForm(),
                           section=db.session.get(Section, flag.section_id) if flag.section_id else None,
                           may_act=current_user.role == Role.SUPERVISOR and flag.status == "open")


@supervision_bp.post("/red-flags/<int:flag_id>/decision")
@roles_required(Role.SUPERVISOR)
def decide_red_flag(flag_id: int):
    flag = _flag(flag_id)
    form = DecisionForm()
    if not form.validate_on_submit() or form.action.data not in ("confirm", "dismiss"):
        flash(_("Choose confirm or dismiss and say why (at most 2000 characters)."), "danger")
        return render_template("supervision/red_flag.html", flag=flag, evidence=flag.data, kinds=red_flags.KINDS,
                               statuses=states.STATE_LABELS, form=form,
                               section=db.session.get(Section, flag.section_id) if flag.section_id else None,
                               may_act=flag.status == "open"), 422
    try:
        red_flags.decide(current_user, flag, form.action.data, form.reason.data, clock.now())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("supervision.red_flag", flag_id=flag_id), 303)
    db.session.commit()
    flash(_("The flag is %(status)s.", status=states.STATE_LABELS[flag.status]), "success")
    return redirect(url_for("supervision.red_flag", flag_id=flag_id), 303)


@supervision_bp.post("/red-flags/runs")
@roles_required(Role.SUPERVISOR)
def recompute_red_flags():
    from supervision.tasks import recompute_red_flags as task
    run = RedFlagRun(requested_by_id=current_user.id, requested_at=clock.now(), status="queued", checked=0,
                     total=len(red_flags.sections_with_openings()), raised=0)
    db.session.add(run)
    db.session.flush()
    run_id = run.id
    journal.record("supervision.red_flags.recompute_requested", "red_flag_run", run_id, actor=current_user,
                   now=clock.now())
    db.session.commit()
    queue_run(task, RedFlagRun, run_id, clock.now())  # after the commit, so the worker finds the row
    return redirect(url_for("supervision.red_flag_run", flag_run_id=run_id), 303)


@supervision_bp.get("/red-flags/runs/<int:flag_run_id>")
@area_required("supervision")
def red_flag_run(flag_run_id: int):
    return render_template("supervision/red_flag_run.html", run=get_or_404(RedFlagRun, flag_run_id))


@supervision_bp.get("/red-flags/runs/<int:flag_run_id>.json")
@area_required("supervision")
def red_flag_run_status(flag_run_id: int):
    run = get_or_404(RedFlagRun, flag_run_id)
    return jsonify({"status": run.status, "checked": run.checked, "total": run.total, "raised": run.raised})


# How evidence reads for a person: its keys, and the codes some values are.
EVIDENCE_LABELS = {
    "section": _l("Section"), "groups": _l("Bidders sharing an IP address"), "source": _l("Where"),
    "ip": _l("IP address"), "bidders": _l("Bidders"), "at": _l("Time"), "documents": _l("Identical documents"),
    "sha256": _l("SHA-256"), "document": _l("Document"), "pairs": _l("Consecutive guarantees"),
    "guarantor_code": _l("Guarantor (credit code)"), "minutes_apart": _l("Minutes apart"),
    "guarantees": _l("Guarantees"), "number": _l("Number"), "issued_at": _l("Issued"), "bidder": _l("Bidder"),
    "short_time_minutes": _l("Short time (minutes)"), "prices": _l("Identical prices"), "price": _l("Price"),
    "bids": _l("Valid bids"), "differences": _l("Differences"), "ratios": _l("Ratios"),
    "arithmetic": _l("Arithmetic progression"), "geometric": _l("Geometric progression"),
    "difference_spread_percent": _l("Spread of the differences, percent of the mean difference"),
    "ratio_spread_percent": _l("Spread of the ratios, percent of the mean growth"),
    "tolerance_percent": _l("Tolerance (%)"), "mean": _l("Mean price"),
    "max_deviation_percent": _l("Largest deviation from the mean (%)"), "threshold_percent": _l("Threshold (%)"),
    "published_at": _l("Published"), "deadline": _l("Deadline"), "days": _l("Days to submit"),
    "min_days": _l("Statutory minimum (days)"), "bids_opened": _l("Bids opened"),
    "gap_percent": _l("Gap between the two lowest (%)"), "side": _l("Unusually"), "q1_percent": _l("Q1 (%)"),
    "q3_percent": _l("Q3 (%)"), "iqr_percent": _l("IQR (%)"), "lower_fence_percent": _l("Lower fence (%)"),
    "upper_fence_percent": _l("Upper fence (%)"), "history": _l("Sealed openings in the history"),
    "min_history": _l("History needed"), "winner": _l("Winner"), "disqualified": _l("Disqualified bids"),
    "outcome": _l("Outcome"), "cause": _l("Cause"), "guarantee": _l("Guarantee"), "lowest": _l("Lowest bid"),
    "lowest_valid": _l("Lowest valid bid"), "control_price": _l("Control price"),
    "deviation_percent": _l("Deviation from the control price (%)"), "unit": _l("Procuring unit"),
    "year": _l("Year"), "sections": _l("Sections awarded"), "wins": _l("Won by the supplier"),
    "share_percent": _l("Share (%)"), "min_sections": _l("Sections needed"), "sections_won": _l("Sections won"),
    "award_date": _l("Award date"), "category": _l("Category"), "window_days": _l("Window (days)"),
    "margin_percent": _l("Margin under the limit (%)"), "orders": _l("Orders"), "placed_at": _l("Placed"),
    "total": _l("Total"), "limit": _l("Direct-purchase limit"), "supplier": _l("Supplier"), "sum": _l("Sum"),
    "id": _l("Id"), "code": _l("Code"), "name": _l("Name"), "credit_code": _l("Credit code"),
}
VALUE_LABELS = {"submission": _l("bid submission"), "sign_in": _l("sign-in at the opening"),
                "small": _l("small"), "large": _l("large"), True: _l("yes"), False: _l("no")}
MONEY_KEYS = {"price", "mean", "control_price", "total", "limit", "sum", "differences"}
TIME_KEYS = {"at", "issued_at", "placed_at", "published_at", "deadline"}


@supervision_bp.app_template_filter("evidence_time")
def evidence_time(value: str):
    from datetime import datetime

    from core.templating import localtime
    try:
        return localtime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm:ss")
    except (TypeError, ValueError):
        return value


@supervision_bp.context_processor
def _evidence_words():
    return {"evidence_labels": EVIDENCE_LABELS, "value_labels": VALUE_LABELS, "money_keys": MONEY_KEYS,
            "time_keys": TIME_KEYS}


@supervision_bp.app_template_filter("evidence_money")
def evidence_money(value):
    from decimal import Decimal, InvalidOperation

    from core.templating import yuan
    try:
        return yuan(Decimal(str(value)))
    except InvalidOperation:
        return value
