"""The Celery app: `celery -A worker worker -B` (exactly one beat process in a deployment)."""
from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
