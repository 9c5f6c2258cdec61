"""The in-app notification centre: each signed-in person's own notifications."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import clock, notifications
from core.extensions import db

notifications_bp = Blueprint("notifications", __name__)


@notifications_bp.get(notifications.CENTRE_PATH)
@login_required
def centre():
    page = db.paginate(notifications.listing(current_user.id), per_page=notifications.PER_PAGE,
                       max_per_page=notifications.PER_PAGE)
    return render_template("notifications/centre.html", page=page)


@notifications_bp.post(notifications.CENTRE_PATH + "/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    notification = notifications.own(current_user.id, notification_id)
    if notification is None:  # another person's answers as one that does not exist
        abort(404)
    notifications.mark_read(notification, clock.now())
    link = notification.link
    db.session.commit()
    if request.form.get("open") and link:
        return redirect(link)
    return redirect(url_for("notifications.centre", page=request.form.get("page", type=int)))


@notifications_bp.post(notifications.CENTRE_PATH + "/read-all")
@login_required
def read_all():
    notifications.mark_all_read(current_user.id, clock.now())
    db.session.commit()
    flash(_("All your notifications are marked as read."), "success")
    return redirect(url_for("notifications.centre"))
