"""One error family for every rule the platform enforces.

A service raises ``DomainError(code, message)``; the API answers ``{"error": {"code", "message"}}`` with
its status, and the UI flashes the message. A 500 is always a bug.
"""
from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from core.extensions import db


class DomainError(Exception):
    status = 422

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def error_json(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": str(message)}}), status


# Reason codes and readable messages for the HTTP errors Flask itself raises.
def _http_reasons():
    return {
        400: ("bad_request", _("The request could not be understood. Check the form and try again.")),
        401: ("unauthenticated", _("Please sign in first.")),
        403: ("forbidden", _("You do not have permission to do this.")),
        404: ("not_found", _("The page or record you asked for does not exist.")),
        405: ("method_not_allowed", _("This address does not accept that kind of request.")),
        409: ("conflict", _("The record was changed by someone else. Reload and try again.")),
        413: ("too_large", _("The upload is too large.")),
        415: ("unsupported_media_type", _("Send the request body as JSON.")),
        422: ("invalid", _("The request was understood but cannot be carried out.")),
        429: ("too_many_requests", _("Too many requests. Please wait a moment.")),
        500: ("server_error", _("Something went wrong on our side. The error has been logged.")),
    }


def has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """No text the platform stores may hold a NUL character (PostgreSQL cannot): refuse it at the door."""
    if any("\x00" in v for v in request.args.values()) or any("\x00" in v for v in request.form.values()):
        raise DomainError("nul_character", _("The request contains a NUL character, which no field may hold."), 400)
    if request.is_json and has_nul(request.get_json(silent=True)):
        raise DomainError("nul_character", _("The request contains a NUL character, which no field may hold."), 400)


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_nul_characters)

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        db.session.rollback()
        if wants_json():
            response = error_json(error.code, error.message, error.status)
            if error.status == 401:
                response[0].headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        flash(error.message, "danger")
        if request.method == "POST" and request.referrer:
            return redirect(request.referrer)
        return render_template("core/error.html", code=error.status, reason=error.code,
                               message=error.message), error.status

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code, message = _http_reasons().get(error.code, ("error", error.description))
        if error.code == 400 and error.description and "CSRF" in str(error.description):
            code, message = "csrf_failed", _("The form has expired. Reload the page and submit it again.")
        if wants_json():
            response = error_json(code, message, error.code)
            return response
        return render_template("core/error.html", code=error.code, reason=code, message=message), error.code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        code, message = _http_reasons()[500]
        if wants_json():
            return error_json(code, message, 500)
        return render_template("core/error.html", code=500, reason=code, message=message), 500
