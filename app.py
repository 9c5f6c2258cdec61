"""The composition root: the one module that knows every blueprint."""
import os
from datetime import timedelta

from flask import Flask, current_app, has_request_context, request

from core import clock, config as core_config
from core.db import install_sqlite_pragmas
from core.errors import register_error_handlers
from core.extensions import babel, bootstrap, celery_init_app, csrf, db, login_manager, migrate
from core.templating import register_template_helpers

# Every blueprint, imported here so that importing the app also registers each API's OpenAPI description.
from accounts import views as accounts_views  # noqa: E402
from accounts.api import api as accounts_api  # noqa: E402
from core.calendar_views import calendar_bp  # noqa: E402
from core.notification_views import notifications_bp  # noqa: E402
from core.trust_views import trust_bp  # noqa: E402
from core.views import core_bp  # noqa: E402
from mall.api import mall_api  # noqa: E402
from mall.views import mall_bp  # noqa: E402
from supervision.views import supervision_bp  # noqa: E402
from tender.api import api as tender_api  # noqa: E402
from tender.challenge_api import api as challenge_api  # noqa: E402
from tender.challenge_views import challenges_bp  # noqa: E402
from tender.guarantee_api import api as guarantee_api  # noqa: E402
from tender.guarantee_views import guarantees_bp  # noqa: E402
from tender.evaluation_api import api as evaluation_api  # noqa: E402
from tender.evaluation_views import evaluation_bp  # noqa: E402
from tender.views import tender_bp  # noqa: E402

HOUSEKEEPING_EVERY = timedelta(minutes=15)
CHECKPOINT_EVERY = timedelta(hours=1)


def select_locale() -> str:
    """The language the person chose (a cookie), else the browser's preference, else Chinese."""
    if not has_request_context():  # a task or a command: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = list(current_app.config["LANGUAGES"])
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or "zh"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(core_config.instance_path()),
                template_folder="core/templates", static_folder="core/static")
    app.config.from_mapping(core_config.from_environment())
    if config:
        app.config.update(config)

    if app.config["TESTING_CLOCK_FILE"]:
        if not app.config["TESTING"]:
            raise RuntimeError("TESTING_CLOCK_FILE is for tests only; unset it in production")
        clock.use_offset_file(app.config["TESTING_CLOCK_FILE"])

    app.config["CELERY"].setdefault("beat_schedule", {
        "housekeeping": {"task": "accounts.tasks.housekeeping", "schedule": HOUSEKEEPING_EVERY},
        "unmailed-notifications": {"task": "core.tasks.mail_unmailed_notifications", "schedule": HOUSEKEEPING_EVERY},
        "journal-checkpoint": {"task": "core.tasks.journal_checkpoint", "schedule": CHECKPOINT_EVERY},
        "calendar-coverage": {"task": "core.tasks.warn_admins_of_uncovered_calendar", "schedule": timedelta(days=1)},
        "deadline-warnings": {"task": "core.tasks.send_due_warnings", "schedule": timedelta(minutes=1)},
        "mall-expire-orders": {"task": "mall.tasks.expire_unconfirmed_orders", "schedule": timedelta(minutes=1)},
        "mall-close-auctions": {"task": "mall.tasks.close_due_auctions", "schedule": timedelta(minutes=1)},
        "mall-recheck-prices": {"task": "mall.tasks.recheck_listing_prices", "schedule": timedelta(hours=1)},
        "close-due-sections": {"task": "tender.tasks.close_due_sections", "schedule": timedelta(minutes=1)},
        "challenges-overdue": {"task": "tender.challenge_tasks.note_overdue", "schedule": timedelta(minutes=5)},
        "red-flags": {"task": "supervision.tasks.compute_due_red_flags", "schedule": timedelta(minutes=1)},
        "statistics-rollup": {"task": "supervision.tasks.refresh_statistics", "schedule": timedelta(minutes=1)},
    })

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    celery_init_app(app)
    with app.app_context():
        install_sqlite_pragmas(db.engine)

    app.register_blueprint(core_bp)
    app.register_blueprint(calendar_bp)  # /admin/calendar
    app.register_blueprint(trust_bp)  # /admin/trust
    app.register_blueprint(notifications_bp)
    app.register_blueprint(accounts_views.accounts_bp)
    app.register_blueprint(tender_bp, url_prefix="/tender")
    app.register_blueprint(guarantees_bp, url_prefix="/tender/guarantees")
    app.register_blueprint(evaluation_bp, url_prefix="/tender")  # evaluation, award, contract
    app.register_blueprint(challenges_bp, url_prefix="/tender")  # challenges and complaints
    app.register_blueprint(mall_bp, url_prefix="/mall")
    app.register_blueprint(supervision_bp, url_prefix="/supervision")
    app.register_blueprint(accounts_api, url_prefix="/api/v1")
    csrf.exempt(accounts_api)  # the API takes bearer tokens only, never the session cookie
    app.register_blueprint(tender_api, url_prefix="/api/v1/tender")
    csrf.exempt(tender_api)
    app.register_blueprint(guarantee_api, url_prefix="/api/v1/tender/guarantees")
    csrf.exempt(guarantee_api)
    app.register_blueprint(evaluation_api, url_prefix="/api/v1/tender")
    csrf.exempt(evaluation_api)
    app.register_blueprint(challenge_api, url_prefix="/api/v1/tender")
    csrf.exempt(challenge_api)
    app.register_blueprint(mall_api, url_prefix="/api/v1/mall")
    csrf.exempt(mall_api)

    import accounts.tasks  # noqa: F401  (registers the tasks with Celery)
    import core.models  # noqa: F401  (the kernel tables)
    import core.tasks  # noqa: F401
    import mall.tasks  # noqa: F401
    import tender.models  # noqa: F401
    import tender.tasks  # noqa: F401
    import tender.challenge_tasks  # noqa: F401
    import supervision.models  # noqa: F401  (red flags)
    import supervision.tasks  # noqa: F401

    from accounts.cli import DEMO_LOADERS, demo_cli, regions_cli, users_cli
    from mall import demo as mall_demo
    from supervision import demo as supervision_demo
    from tender import demo as tender_demo
    for loader in (tender_demo.load, mall_demo.load, supervision_demo.load):  # supervision's last: it sums the others
        if loader not in DEMO_LOADERS:
            DEMO_LOADERS.append(loader)
    app.cli.add_command(demo_cli)
    app.cli.add_command(regions_cli)
    app.cli.add_command(users_cli)
    from core.cli import journal_cli, pki_cli, seal_cli
    app.cli.add_command(journal_cli)
    app.cli.add_command(seal_cli)
    app.cli.add_command(pki_cli)
    from mall.cli import mall_cli
    app.cli.add_command(mall_cli)
    from tender.cli import tender_cli
    app.cli.add_command(tender_cli)
    from supervision.cli import supervision_cli
    app.cli.add_command(supervision_cli)

    register_error_handlers(app)
    register_template_helpers(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
        return response

    return app
