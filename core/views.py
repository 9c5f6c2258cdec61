"""Pages that belong to no part of the trade: the portal, the language and care-mode switches."""
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from core import clock, seal
from core.extensions import db
from core.permissions import ROLE_HOME

core_bp = Blueprint("core", __name__)
ONE_YEAR = 365 * 24 * 3600


def _back():
    """Return to the page the switch was pressed on, but never to another site."""
    target = request.form.get("next") or request.referrer or url_for("core.index")
    if not target.startswith("/") or target.startswith("//"):
        host = request.host_url
        target = target if target.startswith(host) else url_for("core.index")
    return redirect(target)


@core_bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOME[current_user.role]))
    return render_template("core/index.html")


@core_bp.post("/language")
def language():
    response = _back()
    chosen = request.form.get("lang", "")
    if chosen in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", chosen, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        if current_user.is_authenticated and current_user.language != chosen:
            current_user.language = chosen  # what the platform writes to this person in from now on
            db.session.commit()
    return response


@core_bp.post("/care-mode")
def care_mode():
    """关怀版: larger text and stronger contrast, as government sites offer."""
    response = _back()
    response.set_cookie("care", "0" if request.cookies.get("care") == "1" else "1",
                        max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


@core_bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


def _pem_response(text: str):
    return current_app.response_class(text, mimetype="application/x-pem-file")


@core_bp.get("/seal/certificate.pem")
def seal_certificate():
    """The current platform seal certificate, public: anyone can verify what the platform signs."""
    key = seal.ensure(clock.now())
    db.session.commit()
    return _pem_response(key.certificate_pem)


@core_bp.get("/seal/certificates.pem")
def seal_certificates():
    """Every seal certificate ever used, retired ones included, oldest first."""
    return _pem_response("".join(k.certificate_pem for k in seal.certificates("seal")))


@core_bp.get("/seal/ca.pem")
def seal_ca():
    seal.ensure(clock.now())
    db.session.commit()
    return _pem_response("".join(k.certificate_pem for k in seal.certificates("ca")))


@core_bp.get("/favicon.ico")
def favicon():
    return current_app.send_static_file("favicon.svg")
