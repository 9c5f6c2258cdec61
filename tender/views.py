"""The tender pages: registration, acceptance, publication, the public notice board, registration of
bidders, documents, clarifications and addenda, rooms, and the historical import."""
from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from accounts.models import Region
from core import clock, storage
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, area_required, check_object, roles_required
from tender import acceptance, bids, checklists, history, participation, projects, publication, rooms
from tender import opening as openings
from tender.forms import (AddendumForm, BookingForm, DocumentForm, EnvelopeForm, ImportForm, ProjectForm, PublishForm,
                          QuestionForm, RoomForm, SectionForm)
from tender.models import (CATEGORIES, EVALUATION_METHODS, METHODS, ROOM_KINDS, Bid, Booking, Clarification, Download,
                           Finding, NoticeDocument, Project, ProjectDocument, Registration, Room, Section)
from tender.states import STATE_LABELS

tender_bp = Blueprint("tender", __name__, template_folder="templates")
NOTICES_PER_PAGE = 20
FORM_OVERHEAD = 64 * 1024  # a multipart form's boundaries and CSRF token around the envelope
STAFF = (Role.CENTRE, Role.SUPERVISOR)


@tender_bp.context_processor
def _labels():
    return {"categories": CATEGORIES, "methods": METHODS, "evaluation_methods": EVALUATION_METHODS,
            "state_labels": STATE_LABELS, "room_kinds": ROOM_KINDS}


def _client() -> tuple[str, str]:
    return request.remote_addr or "", request.headers.get("User-Agent", "")


def _local(naive):
    """A time typed into a form is Beijing time."""
    return naive.replace(tzinfo=clock.SHANGHAI) if naive is not None else None


def _files(field) -> list[tuple[str, bytes]]:
    return [(f.filename, f.read()) for f in field.data or [] if f and f.filename]


def _refused(error: DomainError, template: str, **context):
    """Show the form again with what the person typed and why it was refused."""
    db.session.rollback()
    flash(error.message, "danger")
    return render_template(template, **context), error.status


def _regions() -> list[tuple[str, str]]:
    locale = str(get_locale() or "zh")
    return [(r.code, f"{r.code} {r.display_name(locale)}") for r in db.session.scalars(select(Region).order_by(Region.code))]


@tender_bp.get("/")
@area_required("tender")
def home():
    """Each role's starting point, with what is waiting for it."""
    waiting = {}
    if current_user.role == Role.CENTRE:
        waiting["queue"] = db.session.scalar(select(func.count()).select_from(acceptance.queue().subquery()))
    elif current_user.role == Role.PROCURING:
        waiting["projects"] = db.session.scalar(select(func.count()).select_from(projects.mine(current_user).subquery()))
    elif current_user.role == Role.BIDDER:
        waiting["registrations"] = db.session.scalar(select(func.count(Registration.id)).where(
            Registration.organisation_id == current_user.organisation_id))
    return render_template("tender/home.html", role=current_user.role, waiting=waiting)


# The public notice board: no sign-in needed.

@tender_bp.get("/notices")
def notices():
    filters = {k: request.args.get(k, "")[:100] for k in ("q", "region", "category", "method", "status")}
    page = db.paginate(publication.notice_board(**filters), per_page=NOTICES_PER_PAGE, max_per_page=NOTICES_PER_PAGE,
                       error_out=False)
    return render_template("tender/notices.html", page=page, filters=filters, regions=_regions(),
                           public_states=publication.PUBLIC_STATES)


@tender_bp.get("/notices/<int:section_id>")
def notice(section_id: int):
    section = get_or_404(Section, section_id)
    if not section.is_public:
        abort(404)
    user = current_user if current_user.is_authenticated else None
    registered = user is not None and user.role == Role.BIDDER and \
        participation.registration(section, user.organisation_id) is not None
    return render_template("tender/notice.html", section=section, registered=registered,
                           may_download=user is not None and participation.may_download(user, section),
                           open_for_bids=section.status == "published" and section.deadline > clock.now(),
                           opened=openings.current(section) is not None)


# Projects: registration by the procuring unit.

@tender_bp.get("/projects")
@roles_required(Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)
def project_list():
    query = projects.mine(current_user) if current_user.role == Role.PROCURING else \
        select(Project).where(Project.historical.is_(False)).order_by(Project.id.desc())
    page = db.paginate(query, per_page=30, max_per_page=30, error_out=False)
    return render_template("tender/projects.html", page=page)


@tender_bp.route("/projects/new", methods=["GET", "POST"])
@roles_required(Role.PROCURING)
def new_project():
    form = ProjectForm()
    form.region_code.choices = _regions()
    if request.method == "GET":
        form.region_code.data = current_user.organisation.region_code
    if form.validate_on_submit():
        try:
            project = projects.create(current_user, name=form.name.data, category=form.category.data,
                                      region_code=form.region_code.data, green_channel=form.green_channel.data,
                                      green_channel_reason=form.green_channel_reason.data,
                                      sealing_suite=form.sealing_suite.data, now=clock.now())
        except DomainError as error:
            return _refused(error, "tender/project_form.html", form=form)
        db.session.commit()
        flash(_("Project %(code)s registered. Add its sections and documents, then submit it.", code=project.code),
              "success")
        return redirect(url_for("tender.project", project_id=project.id))
    return render_template("tender/project_form.html", form=form), 400 if form.errors else 200


def _project_page(project: Project, section_form=None, document_form=None, status: int = 200):
    section_form = section_form or SectionForm(prefix="section")
    document_form = document_form or DocumentForm(prefix="document")
    items = checklists.checklist(project.category)
    document_form.item.choices = [(i.key, i.label) for i in items]
    documents = {i.key: [d for d in project.documents if d.item == i.key] for i in items}
    return render_template("tender/project.html", project=project, items=items, documents=documents,
                           section_form=section_form, document_form=document_form,
                           review=project.latest_review, gaps=project.open_gaps(),
                           supplied=lambda f: acceptance.supplied(project, f)), status


def _project_refused(error: DomainError, project_id: int, **forms):
    """The project page again, with the form as typed and why it was refused."""
    db.session.rollback()
    flash(error.message, "danger")
    return _project_page(db.session.get(Project, project_id), status=error.status, **forms)


@tender_bp.get("/projects/<int:project_id>")
@roles_required(Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)
def project(project_id: int):
    return _project_page(check_object(get_or_404(Project, project_id)))


@tender_bp.post("/projects/<int:project_id>/sections")
@roles_required(Role.PROCURING)
def add_section(project_id: int):
    project = check_object(get_or_404(Project, project_id), action="manage")
    form = SectionForm(prefix="section")
    if not form.validate_on_submit():
        return _project_page(project, section_form=form, status=400)
    try:
        section = projects.add_section(current_user, project, name=form.name.data, method=form.method.data,
                                       base_amount=form.base_amount.data, guarantee_amount=form.guarantee_amount.data,
                                       bid_validity_days=form.bid_validity_days.data,
                                       evaluation_method=form.evaluation_method.data,
                                       price_weight=form.price_weight.data, technical_weight=form.technical_weight.data,
                                       commercial_weight=form.commercial_weight.data, now=clock.now())
    except DomainError as error:
        return _project_refused(error, project_id, section_form=form)
    db.session.commit()
    flash(_("Section %(code)s added.", code=section.code), "success")
    return redirect(url_for("tender.project", project_id=project_id))


@tender_bp.post("/projects/<int:project_id>/documents")
@roles_required(Role.PROCURING)
def add_document(project_id: int):
    project = check_object(get_or_404(Project, project_id), action="manage")
    form = DocumentForm(prefix="document")
    form.item.choices = [(i.key, i.label) for i in checklists.checklist(project.category)]
    if not form.validate_on_submit():
        flash(_("Choose the material and a file to upload."), "danger")
        return _project_page(project, document_form=form, status=400)
    upload = form.file.data
    try:
        projects.add_document(current_user, project, form.item.data, upload.filename, upload.read(), clock.now())
    except DomainError as error:
        return _project_refused(error, project_id, document_form=form)
    db.session.commit()
    flash(_("Document %(name)s uploaded.", name=upload.filename), "success")
    return redirect(url_for("tender.project", project_id=project_id))


@tender_bp.get("/projects/<int:project_id>/documents/<int:document_id>")
@roles_required(Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)
def project_document(project_id: int, document_id: int):
    project = check_object(get_or_404(Project, project_id))
    document = get_or_404(ProjectDocument, document_id)
    if document.project_id != project.id:
        abort(404)
    return _attachment(storage.get(document.sha256), document.filename, document.content_type)


def _attachment(data: bytes, filename: str, content_type: str) -> Response:
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    return response


@tender_bp.post("/projects/<int:project_id>/submit")
@roles_required(Role.PROCURING)
def submit_project(project_id: int):
    project = check_object(get_or_404(Project, project_id), action="manage")
    projects.submit(current_user, project, clock.now())
    db.session.commit()
    flash(_("Project %(code)s submitted to the centre for acceptance.", code=project.code), "success")
    return redirect(url_for("tender.project", project_id=project_id))


@tender_bp.post("/projects/<int:project_id>/cancel")
@roles_required(Role.PROCURING)
def cancel_project(project_id: int):
    project = check_object(get_or_404(Project, project_id), action="manage")
    projects.cancel(current_user, project, request.form.get("reason", ""), clock.now())
    db.session.commit()
    flash(_("Project %(code)s cancelled.", code=project.code), "info")
    return redirect(url_for("tender.project", project_id=project_id))


# Acceptance by the centre.

@tender_bp.get("/acceptance")
@roles_required(Role.CENTRE)
def acceptance_queue():
    return render_template("tender/queue.html", queue=db.session.scalars(acceptance.queue()).all())


@tender_bp.route("/projects/<int:project_id>/review", methods=["GET", "POST"])
@roles_required(Role.CENTRE)
def review(project_id: int):
    project = check_object(get_or_404(Project, project_id), action="review")
    items = checklists.checklist(project.category)
    documents = {i.key: [d for d in project.documents if d.item == i.key] for i in items}
    context = {"project": project, "items": items, "documents": documents, "form": request.form}
    if request.method == "POST":
        verdicts = {i.key: (request.form.get(f"verdict-{i.key}", ""), request.form.get(f"note-{i.key}", ""))
                    for i in items if request.form.get(f"verdict-{i.key}")}
        due = request.form.get("gaps_due", "")
        try:
            gaps_due = date.fromisoformat(due) if due else None
        except ValueError:
            gaps_due = None
        try:
            decision = acceptance.decide(current_user, project, outcome=request.form.get("outcome", ""),
                                         verdicts=verdicts, comment=request.form.get("comment", ""),
                                         gaps_due=gaps_due, now=clock.now())
        except DomainError as error:
            context["project"] = db.session.get(Project, project_id)
            return _refused(error, "tender/review.html", **context)
        db.session.commit()
        flash({"accepted": _("Project %(code)s accepted."), "returned": _("Project %(code)s returned to the unit."),
               "accepted_with_gaps": _("Project %(code)s accepted with gaps.")}[decision.outcome] % {"code": project.code},
              "success")
        return redirect(url_for("tender.acceptance_queue"))
    return render_template("tender/review.html", **context)


@tender_bp.post("/projects/<int:project_id>/gaps/<int:finding_id>/clear")
@roles_required(Role.CENTRE)
def clear_gap(project_id: int, finding_id: int):
    project = check_object(get_or_404(Project, project_id), action="review")
    finding = get_or_404(Finding, finding_id)
    if finding.review.project_id != project.id:
        abort(404)
    acceptance.clear_gap(current_user, project, finding, clock.now())
    db.session.commit()
    flash(_("Gap cleared."), "success")
    return redirect(url_for("tender.project", project_id=project_id))


# Sections: publication and what follows.

def _section_for_staff(section_id: int) -> Section:
    section = get_or_404(Section, section_id)
    if not section.project.can_view(current_user):
        abort(404)
    return section


@tender_bp.get("/sections/<int:section_id>")
@roles_required(Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)
def section(section_id: int):
    """The section as the people running it see it. Who registered and downloaded stays with the centre and
    the supervisors until the deadline: the unit must not learn its bidders' names or number before then."""
    section = _section_for_staff(section_id)
    sees_bidders = current_user.role in STAFF or (section.deadline is not None and section.deadline <= clock.now())
    registrations = downloads = []
    if sees_bidders:
        registrations = db.session.scalars(select(Registration).where(Registration.section_id == section.id)
                                           .order_by(Registration.id)).all()
        downloads = db.session.scalars(select(Download).where(Download.section_id == section.id)
                                       .order_by(Download.id.desc()).limit(200)).all()
    bookings = db.session.scalars(select(Booking).where(Booking.section_id == section.id,
                                                        Booking.cancelled_at.is_(None))
                                  .order_by(Booking.starts_at)).all()
    return render_template("tender/section.html", section=section, sees_bidders=sees_bidders,
                           registrations=registrations, downloads=downloads, bookings=bookings)


@tender_bp.route("/sections/<int:section_id>/publish", methods=["GET", "POST"])
@roles_required(Role.CENTRE)
def publish(section_id: int):
    section = check_object(get_or_404(Section, section_id), action="publish")
    form = PublishForm()
    if request.method == "GET":
        form.title.data = _("Tender notice: %(name)s", name=section.name)
    if form.validate_on_submit():
        try:
            publication.publish(current_user, section, title=form.title.data, body=form.body.data,
                                deadline=_local(form.deadline.data), documents=_files(form.documents),
                                now=clock.now())
        except DomainError as error:
            return _refused(error, "tender/publish.html", form=form, section=db.session.get(Section, section_id),
                            min_days=publication.min_days(section, clock.now()))
        db.session.commit()
        flash(_("Section %(code)s published.", code=section.code), "success")
        return redirect(url_for("tender.notice", section_id=section_id))
    return render_template("tender/publish.html", form=form, section=section,
                           min_days=publication.min_days(section, clock.now())), 400 if form.errors else 200


@tender_bp.post("/sections/<int:section_id>/retender")
@roles_required(Role.CENTRE)
def retender(section_id: int):
    section = check_object(get_or_404(Section, section_id), action="publish")
    new = publication.retender(current_user, section, clock.now(), method=request.form.get("method") or None)
    db.session.commit()
    flash(_("Round %(round)s of the section is ready to publish.", round=new.round), "success")
    return redirect(url_for("tender.publish", section_id=new.id))


@tender_bp.post("/sections/<int:section_id>/register")
@roles_required(Role.BIDDER)
def register(section_id: int):
    section = get_or_404(Section, section_id)
    if not section.is_public:
        abort(404)
    participation.register(current_user, section, clock.now())
    db.session.commit()
    flash(_("Registered for %(code)s. You can now download the tender documents and ask questions.",
            code=section.code), "success")
    return redirect(url_for("tender.notice", section_id=section_id))


@tender_bp.get("/registrations")
@roles_required(Role.BIDDER)
def registrations():
    rows = db.session.scalars(select(Registration).where(Registration.organisation_id == current_user.organisation_id)
                              .order_by(Registration.id.desc())).all()
    return render_template("tender/registrations.html", registrations=rows)


@tender_bp.get("/sections/<int:section_id>/documents/<int:document_id>")
@login_required
def tender_document(section_id: int, document_id: int):
    document = get_or_404(NoticeDocument, document_id)
    section = document.notice.section
    if section.id != section_id or not section.is_public:
        abort(404)
    if current_user.role != Role.BIDDER and not section.project.can_view(current_user):
        abort(404)  # a bidder who has not registered is told to register instead
    data = participation.download(current_user, document, clock.now(), *_client())
    db.session.commit()
    return _attachment(data, document.filename, document.content_type)


def _clarifications_page(section: Section, form: QuestionForm, status: int = 200):
    return render_template("tender/clarifications.html", section=section, form=form,
                           rows=participation.visible_clarifications(current_user, section),
                           may_answer=section.can_answer(current_user)), status


def _section_with_questions(section_id: int) -> Section:
    section = get_or_404(Section, section_id)
    if not section.is_public or not participation.may_download(current_user, section):
        abort(404)
    return section


@tender_bp.get("/sections/<int:section_id>/clarifications")
@area_required("tender")
def clarifications(section_id: int):
    return _clarifications_page(_section_with_questions(section_id), QuestionForm())


@tender_bp.post("/sections/<int:section_id>/questions")
@roles_required(Role.BIDDER)
def ask(section_id: int):
    section = _section_with_questions(section_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _clarifications_page(section, form, 400)
    participation.ask(current_user, section, form.question.data, clock.now())
    db.session.commit()
    flash(_("Your question was sent. The answer will reach every registered bidder."), "success")
    return redirect(url_for("tender.clarifications", section_id=section_id))


@tender_bp.post("/clarifications/<int:clarification_id>/answer")
@roles_required(Role.PROCURING, Role.CENTRE)
def answer(clarification_id: int):
    clarification = get_or_404(Clarification, clarification_id)
    if not clarification.section.can_answer(current_user):
        abort(404)
    participation.answer(current_user, clarification, request.form.get("answer", ""), clock.now())
    db.session.commit()
    flash(_("Answer published to every registered bidder."), "success")
    return redirect(url_for("tender.clarifications", section_id=clarification.section_id))


@tender_bp.route("/sections/<int:section_id>/addenda/new", methods=["GET", "POST"])
@roles_required(Role.PROCURING, Role.CENTRE)
def addendum(section_id: int):
    section = check_object(get_or_404(Section, section_id), action="answer")
    form = AddendumForm()
    if form.validate_on_submit():
        try:
            notice = participation.addendum(current_user, section, title=form.title.data, body=form.body.data,
                                            documents=_files(form.documents), now=clock.now())
        except DomainError as error:
            return _refused(error, "tender/addendum.html", form=form, section=db.session.get(Section, section_id))
        db.session.commit()
        if notice.deadline_after:
            flash(_("Addendum published. The bid deadline moved to %(when)s Beijing time.",
                    when=clock.local(notice.deadline_after).strftime("%Y-%m-%d %H:%M")), "warning")
        else:
            flash(_("Addendum published."), "success")
        return redirect(url_for("tender.notice", section_id=section_id))
    return render_template("tender/addendum.html", form=form, section=section), 400 if form.errors else 200


# Sealed bids.

@tender_bp.get("/sections/<int:section_id>/key")
def section_key(section_id: int):
    """The public opening key file that bidders' tools seal with."""
    section = get_or_404(Section, section_id)
    if not section.is_public:
        abort(404)
    return _attachment(bids.key_file(section), f"{section.code}.key.json", "application/json")


def _bid_page(section: Section, form: EnvelopeForm, status: int = 200):
    return render_template("tender/bid.html", section=section, form=form,
                           history=bids.of_bidder(section, current_user.organisation_id),
                           registered=participation.registration(section, current_user.organisation_id) is not None,
                           open_for_bids=section.status == "published" and section.deadline > clock.now(),
                           max_mb=bids.max_bytes(clock.now()) // (1024 * 1024)), status


@tender_bp.get("/sections/<int:section_id>/bid")
@roles_required(Role.BIDDER)
def bid(section_id: int):
    section = get_or_404(Section, section_id)
    if not section.is_public:
        abort(404)
    return _bid_page(section, EnvelopeForm())


@tender_bp.post("/sections/<int:section_id>/bid")
@roles_required(Role.BIDDER)
def submit_bid(section_id: int):
    section = get_or_404(Section, section_id)
    if not section.is_public:
        abort(404)
    limit = bids.max_bytes(clock.now())
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        raise DomainError("envelope_too_large", _("The envelope is larger than %(mb)s MB.", mb=limit // (1024 * 1024)), 413)
    request.max_content_length = limit + FORM_OVERHEAD
    form = EnvelopeForm()
    if not form.validate_on_submit():
        flash(_("Choose the envelope file your bidding tool made."), "danger")
        return _bid_page(section, form, 400)
    data = form.envelope.data.read()
    try:
        submitted = bids.submit(current_user, section, data, clock.now(), *_client())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _bid_page(db.session.get(Section, section_id), form, error.status)
    db.session.commit()
    flash(_("Bid received at %(when)s Beijing time (number %(sequence)s). Keep the receipt: it proves what you "
            "submitted and when.", when=clock.local(submitted.received_at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            sequence=submitted.sequence), "success")
    return redirect(url_for("tender.bid", section_id=section_id))


@tender_bp.get("/bids/<int:bid_id>/receipt")
@roles_required(Role.BIDDER)
def bid_receipt(bid_id: int):
    submitted = check_object(get_or_404(Bid, bid_id))
    return _attachment(submitted.receipt.encode(), f"receipt-{submitted.section.code}-v{submitted.version}.json",
                       "application/json")


@tender_bp.post("/bids/<int:bid_id>/withdraw")
@roles_required(Role.BIDDER)
def withdraw_bid(bid_id: int):
    submitted = check_object(get_or_404(Bid, bid_id), action="manage")
    bids.withdraw(current_user, submitted, clock.now())
    db.session.commit()
    flash(_("Your bid is withdrawn. You may submit a new one before the deadline."), "info")
    return redirect(url_for("tender.bid", section_id=submitted.section_id))


# Rooms.

@tender_bp.get("/rooms")
@roles_required(Role.CENTRE, Role.SUPERVISOR)
def room_list():
    booking_form = BookingForm(prefix="booking")
    all_rooms = db.session.scalars(select(Room).order_by(Room.name)).all()
    booking_form.room_id.choices = [(r.id, r.name) for r in all_rooms]
    return render_template("tender/rooms.html", rooms=all_rooms, room_form=RoomForm(prefix="room"),
                           booking_form=booking_form,
                           bookings=db.session.scalars(rooms.upcoming(clock.now()).limit(200)).all())


@tender_bp.post("/rooms")
@roles_required(Role.CENTRE)
def create_room():
    form = RoomForm(prefix="room")
    if not form.validate_on_submit():
        flash(_("Give the room a name, a kind and a number of seats."), "danger")
        return redirect(url_for("tender.room_list"))
    room = rooms.create_room(current_user, form.name.data, form.kind.data, form.seats.data or 0, clock.now())
    db.session.commit()
    flash(_("Room %(name)s added.", name=room.name), "success")
    return redirect(url_for("tender.room_list"))


@tender_bp.post("/rooms/book")
@roles_required(Role.CENTRE)
def book_room():
    form = BookingForm(prefix="booking")
    form.room_id.choices = [(r.id, r.name) for r in db.session.scalars(select(Room))]
    if not form.validate_on_submit():
        flash(_("Choose a room, when it starts and ends, and what it is for."), "danger")
        return redirect(url_for("tender.room_list"))
    section = None
    if form.section_code.data:
        section = db.session.scalar(select(Section).where(Section.code == form.section_code.data.strip()))
        if section is None:
            raise DomainError("section_unknown", _("There is no section with the code %(code)s.",
                                                   code=form.section_code.data))
    booking = rooms.book(current_user, db.session.get(Room, form.room_id.data), starts_at=_local(form.starts_at.data),
                         ends_at=_local(form.ends_at.data), purpose=form.purpose.data, section=section, now=clock.now())
    db.session.commit()
    flash(_("%(room)s booked.", room=booking.room.name), "success")
    return redirect(url_for("tender.room_list"))


@tender_bp.post("/bookings/<int:booking_id>/cancel")
@roles_required(Role.CENTRE)
def cancel_booking(booking_id: int):
    rooms.cancel(current_user, get_or_404(Booking, booking_id), clock.now())
    db.session.commit()
    flash(_("Booking cancelled."), "info")
    return redirect(url_for("tender.room_list"))


# Historical import.

@tender_bp.route("/history/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_history():
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        try:
            report = history.import_csv(current_user, form.file.data.read(), clock.now())
        except history.ImportRefused as refused:
            db.session.rollback()
            flash(refused.message, "danger")
            report, status = refused.report, refused.status
        else:
            db.session.commit()
            flash(_("Imported %(sections)s sections of %(projects)s projects.", sections=report.sections,
                    projects=report.projects), "success")
    elif form.errors:
        status = 400
    return render_template("tender/import.html", form=form, report=report, columns=history.COLUMNS), status


from tender import opening_views  # noqa: E402,F401  (the opening hall routes on this blueprint)
