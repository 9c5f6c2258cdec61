"""One set of template filters and globals: money in 元/万元/亿元, times in Asia/Shanghai, navigation."""
from datetime import datetime

from flask import Flask, request, url_for
from flask_babel import format_datetime, get_locale, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from core import clock, money, notifications
from core.permissions import ROLE_HOME, ROLE_LABELS, may_enter

# Navigation: (area, endpoint, label). Each person sees the parts of the platform their role may enter.
NAVIGATION = [
    (None, "tender.notices", _l("Notices")),  # public: anyone, signed in or not
    ("tender", "tender.home", _l("Tendering")),
    ("mall", "mall.home", _l("Online mall")),
    ("supervision", "supervision.home", _l("Supervision")),
    ("statistics", "supervision.statistics_page", _l("Statistics")),
    ("approvals", "accounts.approvals", _l("Approvals")),
    ("admin", "accounts.admin_home", _l("Administration")),
]

# The administrators' tools, linked from the administration page.
ADMIN_TOOLS = [
    ("accounts.admin_settings", _l("Settings of the trade")),
    ("calendar.year_page", _l("Working-day calendar")),
    ("accounts.approvals", _l("Approvals")),
    ("tender.import_history", _l("Import historical sections")),
    ("trust.index", _l("Trust store")),
]


def yuan(amount) -> Markup:
    """Money in the unit a Chinese report would use, with the exact amount for a hover or screen reader."""
    if amount is None:
        return Markup("—")
    return Markup('<span class="money" title="{exact}">{short}</span>').format(
        exact=money.format_exact(amount), short=money.format_cny(amount))


def localtime(moment: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """Shown in Asia/Shanghai whatever the server's zone, with the zone named once in the footer."""
    if moment is None:
        return "—"
    return format_datetime(moment, fmt)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["yuan"] = yuan
    app.jinja_env.filters["localtime"] = localtime

    @app.context_processor
    def _globals():
        locale = str(get_locale() or "zh")
        nav = [(endpoint, label) for area, endpoint, label in NAVIGATION
               if area is None or may_enter(current_user, area)]
        return {
            "navigation": nav,
            "admin_tools": ADMIN_TOOLS,
            "locale": locale,
            "languages": app.config["LANGUAGES"],
            "care_mode": request.cookies.get("care") == "1",
            "role_labels": ROLE_LABELS,
            "role_home": (url_for(ROLE_HOME[current_user.role])
                          if current_user.is_authenticated else url_for("core.index")),
            "now_local": clock.local(clock.now()),
            # The bell in the navbar: one COUNT for a signed-in person, none for a visitor.
            "unread_notifications": (notifications.unread_count(current_user.id)
                                     if current_user.is_authenticated else 0),
        }

