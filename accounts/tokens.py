"""Personal API tokens: shown once, stored hashed, expiring, revocable."""
from flask_babel import gettext as _
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from accounts.models import ApiToken, User, token_digest
from core import journal
from core.errors import DomainError
from core.extensions import db

PREFIX = "ggzy_"
MAX_DAYS = 365


def create(user: User, name: str, days: int, now: datetime) -> tuple[ApiToken, str]:
    if name is not None and not isinstance(name, str):
        raise DomainError("token_name_invalid", _("The token name must be text."))
    name = (name or "").strip()
    if not name:
        raise DomainError("token_name_required", _("Name the token so you can tell it apart later."))
    if len(name) > 100:
        raise DomainError("token_name_too_long", _("A token name has at most 100 characters."))
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise DomainError("token_days_invalid", _("A token lives between 1 and %(days)s days.", days=MAX_DAYS))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_digest=token_digest(secret),
                     created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    journal.record("token.created", "api_token", token.id, {"name": name, "prefix": token.prefix,
                                                            "expires_at": token.expires_at}, actor=user, now=now)
    return token, secret


def revoke(user: User, token: ApiToken, now: datetime) -> ApiToken:
    if token.revoked_at is not None:
        raise DomainError("token_revoked_already", _("This token was revoked already."), 409)
    token.revoked_at = now
    journal.record("token.revoked", "api_token", token.id, actor=user, now=now)
    db.session.flush()
    return token


def user_for(secret: str, now: datetime) -> User | None:
    # One round trip for the token, its user and the user's organisation: every API call starts here.
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_digest == token_digest(secret))
                               .options(joinedload(ApiToken.user).joinedload(User.organisation))).first()
    if token is None or token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user


def of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc())))
