"""Notifications: an in-app message per user, mailed too once the transaction that made it commits; and
deadline warnings, sent as notifications when they fall due.

Services in the platform's way: plain functions that take ``now``, flush and never commit. The mail goes
out through ``core.tasks.mail_notification`` only after the commit (``core.oncommit``), so a worker never
looks for a row that does not exist yet, and a rolled-back transaction mails nobody.

Each person is told in their own language (``user.language``: the one they last signed in with or chose;
the platform's default before that): callers pass ``lazy_gettext`` texts, rendered here once per language
among the recipients. A deadline warning is rendered in every language when it is scheduled and stored so.

Deadline warnings (DOMAIN.md, the online mall): one day before the deadline, or at three quarters of the
time allowed when that is shorter than two days. The beat task ``core.tasks.send_due_warnings`` sends the
due ones every minute; a warning is claimed with a guarded UPDATE (and, on PostgreSQL, picked with
SKIP LOCKED), so two overlapping ticks never send one twice.
"""
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import Select, func, select, update

from core import directory, mail
from core.extensions import db
from core.models import DeadlineWarning, Notification
from core.oncommit import after_commit

CENTRE_PATH = "/notifications"  # the in-app centre (core.notification_views), named in every mail
PER_PAGE = 20
DEADLINE_WARNING = "deadline_warning"
WARN_BEFORE = timedelta(days=1)
SHORT_PERIOD = timedelta(days=2)  # a shorter time allowed is warned at three quarters of it
WARNINGS_PER_TICK = 1000

TITLE_LENGTH = Notification.__table__.c.title.type.length
LINK_LENGTH = Notification.__table__.c.link.type.length



def _user_ids(user_ids: Iterable[int]) -> list[int]:
    """Each user once, in the order given."""
    return list(dict.fromkeys(int(user_id) for user_id in user_ids))


def _checked_link(link: str | None) -> str:
    """Links are paths inside the platform: no other site, no ``javascript:``."""
    link = link or ""
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValueError(f"a notification links to a path of the platform, not {link!r}")
    if len(link) > LINK_LENGTH:
        raise ValueError(f"a notification link is at most {LINK_LENGTH} characters")
    return link


def _title(title) -> str:
    title = str(title)
    return title if len(title) <= TITLE_LENGTH else title[:TITLE_LENGTH - 1] + "…"


class Texts(dict):
    """A title and body already rendered per language: {language: (title, body)}."""


def _default_language() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _language(stored: str | None) -> str:
    """A person's stored language if the platform speaks it, else the platform's default."""
    return stored if stored in current_app.config["LANGUAGES"] else _default_language()


def _rendered(title, body, language: str) -> tuple[str, str]:
    """``title`` and ``body`` (``lazy_gettext`` texts, plain strings, or ``Texts``) in ``language``."""
    if isinstance(title, Texts):
        return title.get(language) or title[_default_language()]
    with force_locale(language):
        return _title(title), str(body)


def in_every_language(title, body) -> Texts:
    return Texts({language: _rendered(title, body, language) for language in current_app.config["LANGUAGES"]})


def notify(user_ids: Iterable[int], kind: str, title, body, link: str | None, now: datetime) -> list[Notification]:
    """One in-app notification for each user, in the user's language; each is mailed by a task once the
    transaction commits.

    ``user_ids``: ids, or {id: language} where the caller read the languages already (one query fewer).
    ``title`` and ``body``: ``lazy_gettext`` texts (or plain strings, the same for everyone, or ``Texts``)."""
    link = _checked_link(link)
    ids = _user_ids(user_ids)
    known = user_ids if isinstance(user_ids, Mapping) else directory.languages(ids)
    languages = {user_id: _language(known.get(user_id)) for user_id in ids}
    texts = {language: _rendered(title, body, language) for language in set(languages.values())}
    made = [Notification(user_id=user_id, kind=kind, title=texts[languages[user_id]][0],
                         body=texts[languages[user_id]][1], link=link, created_at=now) for user_id in ids]
    db.session.add_all(made)
    db.session.flush()
    for notification in made:
        after_commit(partial(_enqueue_mail, notification.id))
    return made


def _enqueue_mail(notification_id: int) -> None:
    from core.tasks import mail_notification  # the tasks module imports this one
    mail_notification.delay(notification_id)


def _absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def mail_one(notification_id: int, now: datetime) -> bool:
    """Mail one notification to its user unless it has been mailed already; True when it was sent now.

    The row is claimed (``emailed_at`` set where it was empty) before sending and the claim commits
    after: a second run, even a concurrent one, finds it claimed and sends nothing, and a failed send
    leaves it unclaimed for the retry."""
    row = db.session.execute(
        select(Notification.title, Notification.body, Notification.link, directory.users.c.email,
               directory.users.c.language)
        .join(directory.users, directory.users.c.id == Notification.user_id)
        .where(Notification.id == notification_id, Notification.emailed_at.is_(None))).one_or_none()
    if row is None or not row.email:
        return False
    claimed = db.session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.emailed_at.is_(None))
        .values(emailed_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    with force_locale(_language(row.language)):
        parts = [row.body]
        if row.link:
            parts.append(_("Open: %(url)s", url=_absolute(row.link)))
        parts.append(_("All your notifications: %(url)s", url=_absolute(CENTRE_PATH)))
        message = mail.build(row.email, row.title, "\n\n".join(parts))
    mail.deliver(message)
    return True


# The in-app centre.

def listing(user_id: int) -> Select:
    """A user's own notifications, newest first."""
    return (select(Notification).where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def own(user_id: int, notification_id: int) -> Notification | None:
    """The notification if it is the user's; None for another user's as for one that does not exist."""
    return db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        Notification.user_id == user_id))


def mark_read(notification: Notification, now: datetime) -> bool:
    if notification.read_at is not None:
        return False
    notification.read_at = now
    db.session.flush()
    return True


def mark_all_read(user_id: int, now: datetime) -> int:
    return db.session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session="fetch")).rowcount


# Deadline warnings.

def warn_at_for(deadline: datetime, allowed_from: datetime) -> datetime:
    """One day before the deadline; at three quarters of the time allowed when that is under two days."""
    allowed = deadline - allowed_from
    if allowed < SHORT_PERIOD:
        return allowed_from + allowed * 3 / 4
    return deadline - WARN_BEFORE


def schedule_deadline_warning(key: str, user_ids: Iterable[int], title, body, link: str | None,
                              deadline: datetime, now: datetime,
                              allowed_from: datetime | None = None, fresh: bool = False) -> DeadlineWarning | None:
    """Warn ``user_ids`` before ``deadline`` (``allowed_from``, by default ``now``, is when the time allowed
    began). ``key`` names the deadline (e.g. "order:17:confirm"): scheduling it again replaces a warning
    not yet sent; a warning already sent for this very deadline is not sent again, while a moved deadline
    is warned afresh. A deadline already past is not warned (a pending warning for it is cancelled): None.
    ``fresh``: the key names something made in this transaction, so no warning can exist for it yet and
    none is looked up (one round trip fewer; a duplicate key would still be refused by its unique index)."""
    start = allowed_from or now
    if deadline <= start:
        raise ValueError("a deadline comes after the time allowed begins")
    ids = _user_ids(user_ids)
    if not ids:
        raise ValueError("a deadline warning needs someone to warn")
    link = _checked_link(link)
    if deadline <= now:
        cancel_deadline_warning(key, now)
        return None
    warning = None if fresh else db.session.scalar(
        select(DeadlineWarning).where(DeadlineWarning.key == key).with_for_update())
    if warning is not None and warning.sent_at is not None and warning.cancelled_at is None \
            and warning.deadline == deadline:
        return warning
    if warning is None:
        warning = DeadlineWarning(key=key)
        db.session.add(warning)
    warning.user_ids = ",".join(map(str, ids))
    texts = in_every_language(title, body)
    warning.title, warning.body = texts[_default_language()]
    warning.texts = json.dumps(texts, ensure_ascii=False)
    warning.link = link
    warning.deadline = deadline
    warning.warn_at = warn_at_for(deadline, start)
    warning.sent_at = None
    warning.cancelled_at = None
    db.session.flush()
    return warning


def cancel_deadline_warning(key: str, now: datetime) -> bool:
    """The deadline was met (or is gone): its warning, if not sent yet, never will be. True if one was."""
    return db.session.execute(
        update(DeadlineWarning).where(DeadlineWarning.key == key, DeadlineWarning.sent_at.is_(None),
                                      DeadlineWarning.cancelled_at.is_(None))
        .values(cancelled_at=now).execution_options(synchronize_session="fetch")).rowcount > 0


def send_due_warnings(now: datetime) -> int:
    """Send the warnings that are due, unsent, not cancelled and whose deadline has not passed, as
    notifications of kind "deadline_warning". Returns how many were sent."""
    due = (select(DeadlineWarning.id)
           .where(DeadlineWarning.warn_at <= now, DeadlineWarning.sent_at.is_(None),
                  DeadlineWarning.cancelled_at.is_(None), DeadlineWarning.deadline > now)
           .order_by(DeadlineWarning.warn_at, DeadlineWarning.id).limit(WARNINGS_PER_TICK)
           .with_for_update(skip_locked=True))  # PostgreSQL: another tick's rows are skipped, not awaited
    ids = list(db.session.scalars(due))
    if not ids:
        return 0
    # The guard: only a row still unsent and uncancelled is claimed, so an overlapping tick that read the
    # same ids (SQLite has no row locks; its writers queue) claims none of them.
    claimed = db.session.execute(
        update(DeadlineWarning)
        .where(DeadlineWarning.id.in_(ids), DeadlineWarning.sent_at.is_(None),
               DeadlineWarning.cancelled_at.is_(None))
        .values(sent_at=now)
        .returning(DeadlineWarning.id, DeadlineWarning.user_ids, DeadlineWarning.title,
                   DeadlineWarning.body, DeadlineWarning.texts, DeadlineWarning.link)
        .execution_options(synchronize_session=False)).all()
    order = {warning_id: position for position, warning_id in enumerate(ids)}
    for warning in sorted(claimed, key=lambda row: order[row.id]):
        user_ids = [int(part) for part in warning.user_ids.split(",") if part.strip()]
        title = Texts({language: tuple(pair) for language, pair in json.loads(warning.texts).items()}) \
            if warning.texts else warning.title
        notify(user_ids, DEADLINE_WARNING, title, warning.body, warning.link, now)
    return len(claimed)


def unmailed(now: datetime, older_than: timedelta = timedelta(minutes=10), limit: int = 500) -> list[int]:
    """Notifications still not mailed a while after they were made (their task was lost, e.g. while the
    broker was down): the sweep task queues them again; mailing is idempotent."""
    return list(db.session.scalars(
        select(Notification.id).where(Notification.emailed_at.is_(None), Notification.created_at < now - older_than)
        .order_by(Notification.id).limit(limit)))
