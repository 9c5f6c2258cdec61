"""The journal audit pages: browse entries, verify the chain (with progress), sign checkpoints, export."""
import json

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Organisation, User
from core import clock, journal
from core.db import get_or_404
from core.extensions import db
from core.oncommit import queue_run
from core.tasks import verify_journal
from core.models import Checkpoint, JournalEntry, JournalVerification
from core.permissions import area_required
from supervision.views import supervision_bp

PAGE_SIZE = 50


@supervision_bp.get("/journal")
@area_required("supervision")
def journal_home():
    query = select(JournalEntry).order_by(JournalEntry.seq.desc())
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(JournalEntry.action.startswith(action))
    before = request.args.get("before", type=int)
    if before:
        query = query.where(JournalEntry.seq < before)
    entries = list(db.session.scalars(query.limit(PAGE_SIZE)))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({e.actor_id for e in entries})))}
    organisations = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_({e.organisation_id for e in entries})))}
    seq, head_hash = journal.head()
    return render_template(
        "supervision/journal.html", entries=entries, users=users, organisations=organisations, action=action,
        head_seq=seq, head_hash=head_hash,
        checkpoints=list(db.session.scalars(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(5))),
        runs=list(db.session.scalars(select(JournalVerification).order_by(JournalVerification.id.desc()).limit(5))),
        next_before=entries[-1].seq if len(entries) == PAGE_SIZE else None)


@supervision_bp.get("/journal/<int:seq>")
@area_required("supervision")
def journal_entry(seq: int):
    entry = get_or_404(JournalEntry, seq)
    return render_template("supervision/journal_entry.html", entry=entry,
                           body=json.dumps(json.loads(entry.body), ensure_ascii=False, indent=2))


@supervision_bp.post("/journal/verifications")
@area_required("supervision")
def start_verification():
    run = JournalVerification(requested_by_id=current_user.id, requested_at=clock.now(), status="queued",
                              checked=0, total=journal.head()[0], reason="", detail="")
    db.session.add(run)
    db.session.flush()
    run_id = run.id
    journal.record("journal.verification_requested", "journal_verification", run_id, actor=current_user,
                   now=clock.now())
    db.session.commit()
    queue_run(verify_journal, JournalVerification, run_id, clock.now())  # after the commit: the worker finds it
    return redirect(url_for("supervision.verification", run_id=run_id))


@supervision_bp.get("/journal/verifications/<int:run_id>")
@area_required("supervision")
def verification(run_id: int):
    return render_template("supervision/verification.html", run=get_or_404(JournalVerification, run_id),
                           reasons=journal.REASONS)


@supervision_bp.get("/journal/verifications/<int:run_id>.json")
@area_required("supervision")
def verification_status(run_id: int):
    run = get_or_404(JournalVerification, run_id)
    return jsonify({"status": run.status, "checked": run.checked, "total": run.total,
                    "first_bad_seq": run.first_bad_seq, "reason": run.reason, "detail": run.detail})


@supervision_bp.post("/journal/checkpoints")
@area_required("supervision")
def sign_checkpoint():
    row = journal.checkpoint(clock.now(), force=True)
    db.session.commit()
    flash(_("The journal head (entry %(seq)s) is signed with the platform seal.", seq=row.seq), "success")
    return redirect(url_for("supervision.journal_home"))


@supervision_bp.get("/journal/export.jsonl")
@area_required("supervision")
def export():
    """The whole journal as JSON Lines (docs/formats.md), streamed from a snapshot of its own once this
    request's context (and its transaction) has ended."""
    return Response(journal.export_lines(db.engine), mimetype="application/jsonl",
                    headers={"Content-Disposition": "attachment; filename=journal.jsonl"})
