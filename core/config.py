"""Process configuration from the environment.

With nothing set the platform runs with no server at all: SQLite, kombu's filesystem broker and a
document folder, all under ``instance/``, and secrets generated once into ``instance/secrets.json``.
"""
import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> Path:
    return Path(os.environ.get("INSTANCE_PATH", ROOT / "instance")).resolve()


def _instance_secrets(folder: Path) -> dict:
    """Secrets made once per installation; kept out of the database on purpose.

    ``MASTER_KEY`` encrypts what the platform must be able to read back (TOTP secrets, private keys),
    so a copy of the database alone reveals none of it.
    """
    path = folder / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    values = {"SECRET_KEY": secrets.token_hex(32), "MASTER_KEY": secrets.token_hex(32),
              "PEPPER": secrets.token_hex(32)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)
    return values


def _custody_kdf() -> dict:
    """Argon2id cost for keyholders' PINs, "iterations:memory KiB:lanes" (RFC 9106's second option)."""
    iterations, memory_cost, lanes = (int(v) for v in os.environ.get("CUSTODY_KDF", "3:65536:4").split(":"))
    return {"iterations": iterations, "memory_cost": memory_cost, "lanes": lanes}


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def from_environment() -> dict:
    folder = instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    made = _instance_secrets(folder)
    secret = lambda name: os.environ.get(name) or made[name]  # noqa: E731

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'platform.sqlite'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    broker_url = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
    broker_folder = folder / "broker"
    celery = {
        "broker_url": broker_url,
        "task_ignore_result": True,
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "beat_schedule_filename": str(folder / "celerybeat-schedule"),
        "timezone": "Asia/Shanghai",
        "enable_utc": True,
    }
    if broker_url.startswith("filesystem"):
        for sub in ("queue", "processed", "control"):
            (broker_folder / sub).mkdir(parents=True, exist_ok=True)
        celery["broker_transport_options"] = {
            "data_folder_in": str(broker_folder / "queue"),
            "data_folder_out": str(broker_folder / "queue"),
            "processed_folder": str(broker_folder / "processed"),
            "control_folder": str(broker_folder / "control"),  # else kombu writes ./control/
            "store_processed": False,
        }

    return {
        "SECRET_KEY": secret("SECRET_KEY"),
        "MASTER_KEY": bytes.fromhex(secret("MASTER_KEY")),
        "PEPPER": bytes.fromhex(secret("PEPPER")),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No pre-ping (a round trip before every transaction); connections are recycled instead.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "CELERY": celery,
        "DOCUMENT_FOLDER": os.environ.get("DOCUMENT_FOLDER") or str(folder / "documents"),
        # Uploaded documents (application and tender documents): the largest accepted, in bytes.
        "DOCUMENT_MAX_BYTES": int(os.environ.get("DOCUMENT_MAX_BYTES", str(50 * 1024 * 1024))),
        "MAIL_FOLDER": os.environ.get("MAIL_FOLDER") or str(folder / "mail"),
        # CA certificates (PEM/DER) and their CRLs trusted for bidders' and guarantors' signatures.
        "TRUST_STORE_DIR": os.environ.get("TRUST_STORE_DIR") or str(folder / "trust"),
        # The cost of deriving a keyholder's key from PIN and PEPPER (core.crypto.custody).
        "CUSTODY_KDF": _custody_kdf(),
        # How long one server-sent event stream of the opening hall lasts before the browser reconnects.
        "OPENING_STREAM_SECONDS": int(os.environ.get("OPENING_STREAM_SECONDS", "15")),
        "SMTP_URL": os.environ.get("SMTP_URL", ""),  # smtp://user:pass@host:587 ; empty: write files
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "noreply@ggzy.example.cn"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        # Cookies: HttpOnly and SameSite always; Secure wherever the site is served over HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE",
                                       os.environ.get("BASE_URL", "").startswith("https://")),
        # Behind N reverse proxies, the client's address comes from X-Forwarded-For (journal, throttling).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "120")),
        "PASSWORD_HASH_METHOD": "scrypt:32768:8:1",
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LANGUAGES": {"zh": "简体中文", "en": "English"},
        "WTF_CSRF_TIME_LIMIT": None,
        # Only a test run may move the platform's clock (core.clock); production refuses to read it.
        "TESTING_CLOCK_FILE": os.environ.get("TESTING_CLOCK_FILE", ""),
        "TESTING": _bool("PLATFORM_TESTING"),
    }
