"""Sign-in: passwords, throttling and locking, second factor, sessions, password reset.

Services take the actor and ``now`` and never commit; the view commits.
"""
from flask_babel import gettext as _
import secrets
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from flask import current_app
from sqlalchemy import delete, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ApiToken, FailedSignIn, LoginSession, PasswordReset, User, token_digest
from core import journal, settings
from core.crypto import secretbox
from core.errors import DomainError
from core.extensions import db
from core.permissions import SECOND_FACTOR_ROLES

TOTP_STEP = 30
TOTP_DIGITS = 6
TOTP_ISSUER = "GGZY"
RESET_VALID_FOR = timedelta(hours=1)
ADDRESS_WINDOW = timedelta(minutes=15)
ADDRESS_LIMIT = 50  # failed sign-ins from one address within the window
MIN_PASSWORD_LENGTH = 10
# A hash to check against when the username is unknown, so the answer takes as long either way.
_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("password_too_short",
                          _("A password has at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if password.isdigit() or password.isalpha():
        raise DomainError("password_too_simple", _("A password mixes letters with digits or symbols."))


class SignInRefused(DomainError):
    status = 401


def _wait_after(failures: int, slow_after: int) -> timedelta:
    """30 s after the first failure past the threshold, doubling each time, at most 15 minutes."""
    return timedelta(seconds=min(30 * 2 ** (failures - slow_after), 900))


def _address_refused(ip: str, now: datetime) -> None:
    window = now - ADDRESS_WINDOW
    failures = db.session.scalar(select(func.count()).select_from(FailedSignIn).where(
        FailedSignIn.ip_address == ip, FailedSignIn.at > window))
    if failures >= ADDRESS_LIMIT:
        raise SignInRefused("address_throttled", _("Too many failed sign-ins from your network. "
                                                   "Try again in a quarter of an hour."), 429)


def authenticate(username: str, password: str, now: datetime, ip: str = "") -> User:
    """Check a password. Repeated failures make each next attempt wait, then lock the account; many
    failures from one address, whatever the accounts, make that address wait."""
    global _DUMMY_HASH
    _address_refused(ip, now)
    user = db.session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH, password)
        db.session.add(FailedSignIn(ip_address=ip, at=now))
        db.session.flush()
        raise SignInRefused("credentials_invalid", _("The username or password is wrong."))
    if user.locked:
        raise SignInRefused("account_locked", _("This account is locked after too many failed sign-ins. "
                                              "Reset the password by e-mail or ask an administrator."), 423)
    if user.locked_until and now < user.locked_until:
        raise SignInRefused("signin_throttled", _("Too many failed sign-ins. Wait a moment and try again."), 429)
    if not check_password_hash(user.password_hash, password):
        db.session.add(FailedSignIn(ip_address=ip, at=now))
        user.failed_logins += 1
        lock_after = settings.value("accounts.lock_after_failures", now)
        slow_after = settings.value("accounts.slow_after_failures", now)
        if user.failed_logins >= lock_after:
            user.locked = True
        elif user.failed_logins >= slow_after:
            user.locked_until = now + _wait_after(user.failed_logins, slow_after)
        journal.record("user.signin_failed", "user", user.id, {"failures": user.failed_logins,
                                                                "locked": user.locked}, now=now,
                       organisation_id=user.organisation_id)
        db.session.flush()
        raise SignInRefused("credentials_invalid", _("The username or password is wrong."))
    if user.status != "active":
        raise SignInRefused("account_deactivated", _("This account has been deactivated."), 403)
    if user.organisation.status != "approved":
        reason = {"pending": _("Your organisation is waiting for the centre's approval."),
                  "rejected": _("Your organisation's registration was rejected."),
                  "deactivated": _("Your organisation has been deactivated.")}[user.organisation.status]
        raise SignInRefused(f"organisation_{user.organisation.status}", reason, 403)
    return user


def needs_second_factor(user: User) -> bool:
    return user.has_totp or user.role in SECOND_FACTOR_ROLES


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP, enforce_key_length=False)


def current_code(secret: bytes, now: datetime) -> str:
    """The code an authenticator app shows now for ``secret`` (for the demo command and tests)."""
    return _totp(secret).generate(now.timestamp()).decode()


def new_totp_secret() -> bytes:
    return secrets.token_bytes(20)


def provisioning_uri(user: User, secret: bytes) -> str:
    return _totp(secret).get_provisioning_uri(user.username, TOTP_ISSUER)


def _verify_code(user: User, secret: bytes, code: str, now: datetime) -> None:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        raise DomainError("totp_invalid", _("Enter the 6-digit code from your authenticator app."))
    step = int(now.timestamp()) // TOTP_STEP
    for candidate in (step, step - 1, step + 1):  # one step of clock drift either way
        try:
            _totp(secret).verify(code.encode(), candidate * TOTP_STEP)
        except InvalidToken:
            continue
        if user.totp_last_step is not None and candidate <= user.totp_last_step:
            raise DomainError("totp_replayed", _("This code was already used. Wait for the next one."))
        user.totp_last_step = candidate
        return
    user.failed_logins += 1
    journal.record("user.second_factor_failed", "user", user.id, {"failures": user.failed_logins}, now=now,
                   organisation_id=user.organisation_id)
    raise DomainError("totp_invalid", _("The code is wrong or has expired."))


def verify_second_factor(user: User, code: str, now: datetime) -> None:
    secret = secretbox.open_(user.totp_secret_box, f"totp:{user.id}")
    _verify_code(user, secret, code, now)
    db.session.flush()


def enrol_second_factor(user: User, secret: bytes, code: str, now: datetime) -> None:
    """Turn TOTP on once the person has shown a code from the new secret."""
    _verify_code(user, secret, code, now)
    user.totp_secret_box = secretbox.seal(secret, f"totp:{user.id}")
    journal.record("user.second_factor_enrolled", "user", user.id, actor=user, now=now)
    db.session.flush()


def set_totp_secret(user: User, secret: bytes | None) -> None:
    """For the demo loader: install a known authenticator seed."""
    user.totp_secret_box = secretbox.seal(secret, f"totp:{user.id}") if secret else None
    user.totp_last_step = None


def reset_second_factor(actor: User, user: User, now: datetime) -> None:
    """An admin clears a lost authenticator; the user sets up a new one at the next sign-in."""
    set_totp_secret(user, None)
    journal.record("user.second_factor_reset", "user", user.id, actor=actor, now=now)
    db.session.flush()


def start_session(user: User, now: datetime, ip: str, user_agent: str, language: str | None = None) -> str:
    """Record a signed-in browser; returns the token for the cookie (only its digest is stored).
    ``language``: the one the person signs in with, which the platform then writes to them in."""
    token = secrets.token_urlsafe(32)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    db.session.add(LoginSession(token_digest=token_digest(token), user_id=user.id, created_at=now,
                                last_seen_at=now, expires_at=now + idle, ip_address=ip or "",
                                user_agent=(user_agent or "")[:300]))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if language:
        user.language = language
    journal.record("user.signed_in", "user", user.id, actor=user, now=now)
    db.session.flush()
    return token


def session_user(token: str, now: datetime) -> User | None:
    """The user of a live session, sliding its idle expiry forward."""
    row = db.session.scalars(select(LoginSession).where(LoginSession.token_digest == token_digest(token))).first()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    if (now - row.last_seen_at) > timedelta(minutes=1):  # write at most once a minute per session
        row.last_seen_at = now
        row.expires_at = now + timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
        db.session.flush()
    return row.user


def end_session(user: User | None, token: str, now: datetime) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.token_digest == token_digest(token)))
    if user is not None:
        journal.record("user.signed_out", "user", user.id, actor=user, now=now)


def request_password_reset(email: str, now: datetime) -> tuple[User, str] | None:
    """Make a reset token for the account with this e-mail, if any. The caller mails the link;
    the page says the same thing whether or not the address is known."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or user.status != "active":
        return None
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordReset(user_id=user.id, token_digest=token_digest(token), created_at=now,
                                 expires_at=now + RESET_VALID_FOR))
    journal.record("user.password_reset_requested", "user", user.id, now=now, organisation_id=user.organisation_id)
    db.session.flush()
    return user, token


def reset_password(token: str, new_password: str, now: datetime) -> User:
    row = db.session.scalars(select(PasswordReset).where(PasswordReset.token_digest == token_digest(token))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise DomainError("reset_link_invalid", _("This reset link is invalid, used or expired. Ask for a new one."), 400)
    check_password_rules(new_password)
    user = db.session.get(User, row.user_id)
    user.password_hash = hash_password(new_password)
    user.failed_logins, user.locked_until, user.locked = 0, None, False
    row.used_at = now
    # A new password ends every session and every other reset link.
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.id != row.id))
    journal.record("user.password_reset", "user", user.id, actor=user, now=now)
    db.session.flush()
    return user


def purge_expired(now: datetime) -> dict:
    """Housekeeping: forget ended sessions, dead reset links, and tokens expired or revoked 30 days ago."""
    month_ago = now - timedelta(days=30)
    counts = {
        "sessions": db.session.execute(delete(LoginSession).where(LoginSession.expires_at <= now)).rowcount,
        "password_resets": db.session.execute(delete(PasswordReset).where(
            or_(PasswordReset.expires_at <= now, PasswordReset.used_at.is_not(None)))).rowcount,
        "failed_sign_ins": db.session.execute(delete(FailedSignIn).where(
            FailedSignIn.at <= now - ADDRESS_WINDOW)).rowcount,
        "api_tokens": db.session.execute(delete(ApiToken).where(
            or_(ApiToken.expires_at <= month_ago, ApiToken.revoked_at <= month_ago))).rowcount,
    }
    return counts
