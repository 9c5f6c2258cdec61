from flask import Blueprint, render_template
from flask_login import current_user

from core.permissions import area_required

tender_bp = Blueprint("tender", __name__, template_folder="templates")


@tender_bp.get("/")
@area_required("tender")
def home():
    """Each role's starting point for tendering; what it lists grows with the tender issues."""
    return render_template("tender/home.html", role=current_user.role)
