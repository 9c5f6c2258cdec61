from flask import Blueprint, render_template
from flask_login import current_user

from core.permissions import area_required

mall_bp = Blueprint("mall", __name__, template_folder="templates")


@mall_bp.get("/")
@area_required("mall")
def home():
    return render_template("mall/home.html", role=current_user.role)
