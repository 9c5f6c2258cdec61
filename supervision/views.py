from flask import Blueprint, render_template
from flask_login import current_user

from core import clock
from core.permissions import area_required
from supervision import workspace

supervision_bp = Blueprint("supervision", __name__, template_folder="templates")


@supervision_bp.get("/")
@area_required("supervision")
def home():
    return render_template("supervision/home.html", role=current_user.role,
                           attention=workspace.attention(current_user, clock.now()))


from supervision import journal_views  # noqa: E402,F401  (the journal audit routes on this blueprint)
from supervision import statistics_views  # noqa: E402,F401  (the statistics dashboard and its exports)
from supervision import ocds_views  # noqa: E402,F401  (open data: OCDS release packages, public)
from supervision import workspace_views  # noqa: E402,F401  (the supervisor's workspace, replay and annotations)
from supervision import red_flag_views  # noqa: E402,F401  (red flags: list, evidence, decisions, recomputation)
