"""Settings for CDN Console, read from environment variables.

Every variable is listed in `.env.example` and in the README. Without any of them the console runs on its
embedded default: a SQLite file and a file-system Celery broker under `var/`, which needs no server.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from edge_agent.addresses import parse_networks
from edge_agent.resolve import parse_resolver

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONSOLE_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY, else the key file `make run` keeps (SECRET_KEY_FILE, default var/secret_key), so that
    management commands sign and decrypt with the same key as the console; outside DEBUG one is required."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(env_str("SECRET_KEY_FILE", str(VAR_DIR / "secret_key")))
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    if DEBUG:  # the development fallback, never used in production
        return "insecure-development-key-change-me"
    raise ImproperlyConfigured(f"Set the SECRET_KEY environment variable (or write the key to {path}).")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "console",
    "accounts",
    "domains",
    "origin_fetch",
    "edge",
    "api",
    "alibaba_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The Django admin is the operators' (staff): a customer who goes there is sent back to the console.
    "console.admin_gate.AdminForStaffOnly",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it turns a log-on refused for too many failures into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.console",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'console.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The embedded default is shared by the web server and the Celery worker: wait for the lock, and
    # let WAL mode keep readers and the writer out of each other's way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
SILENCED_SYSTEM_CHECKS: list[str] = []
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # The embedded default's file cache is shared by the processes of one machine, which is all that runs
    # then: django-axes only knows Redis and Memcached to be shared.
    SILENCED_SYSTEM_CHECKS.append("axes.W001")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or client address before any password is checked.
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Log-on lockout (django-axes): LOGIN_FAILURE_LIMIT failures in a row for one user name, or from one client
# address, lock it out for LOGIN_COOLOFF_MINUTES (a failure meanwhile starts the wait again). The counters
# live in the cache (Redis), shared by every web process.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_CALLABLE = "console.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
LOGIN_URL = "login"
# The operators' admin site lives on a path of its own, apart from the customers' console.
ADMIN_PATH = env_str("ADMIN_PATH", "admin/").strip("/") + "/"
# A refused form post (missing or stale CSRF token) answers with the console's own error page.
CSRF_FAILURE_VIEW = "console.errors.csrf_failure"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the header's language switch is remembered across browser restarts
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security: cookies and headers that hold in production; HTTPS ones follow SECURE_SSL, on unless DEBUG
# (`make run` and the tests, served over plain HTTP, turn it off).
SECURE_SSL = env_bool("SECURE_SSL", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
LANGUAGE_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if not SECURE_SSL else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every answer: the console's own scripts, styles, images and fonts only, no inline
# script, style or event handler, no plugin, no framing, forms posted only to the console.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "api.tokens.HashedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.UserThrottle", "api.throttling.AnonThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# REST API throttling (429 with Retry-After), counted in the cache (Redis) across every web process: calls
# per user, per client address for anonymous calls, and token requests per client address.
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "600/min")
API_THROTTLE_ANON = env_str("API_THROTTLE_ANON", "60/min")
API_THROTTLE_TOKEN = env_str("API_THROTTLE_TOKEN", "20/min")
# REST API tokens are stored as digests and expire after this many days (a new one: POST /api/v1/auth/token/).
API_TOKEN_TTL_DAYS = env_float("API_TOKEN_TTL_DAYS", 30.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "CDN Console API",
    "DESCRIPTION": "Domains, origins, back-to-origin settings (Origin SNI), delivery to edge nodes.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Interactive docs from static files served by the console: no outside resource.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: Redis in production; without CELERY_BROKER_URL or REDIS_URL an embedded file-system broker.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.05,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Above the delivery task's hard time limit, so an unacknowledged task is redelivered only when its
    # worker is really gone.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Reconnects to a broker that came back within a second (see console.celery.Consumer).
CELERY_WORKER_CONSUMER = "console.celery:Consumer"
# ... and keeps trying however long the broker is away (Celery gives up after 100 attempts by default).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes the worker's database connections before and after every task unless told to
# reuse them: a new PostgreSQL connection (and a server process with cold catalog caches) for every delivery,
# 10-15 ms of a 10-node fan-out. Reuse them; `edge.tasks` closes a connection around each task as Django does
# around a request instead (when older than CONN_MAX_AGE or unusable, with CONN_HEALTH_CHECKS).
CELERY_DB_REUSE_MAX = 1_000_000_000
CELERY_TASK_ALWAYS_EAGER = False

# Edge delivery.
EDGE_PUSH_TIMEOUT = env_float("EDGE_PUSH_TIMEOUT", 5.0)
EDGE_PUSH_CONCURRENCY = env_int("EDGE_PUSH_CONCURRENCY", 200)
EDGE_PUSH_MAX_RETRIES = env_int("EDGE_PUSH_MAX_RETRIES", 5)
EDGE_RECONCILE_INTERVAL = env_float("EDGE_RECONCILE_INTERVAL", 10.0)
# A change's delivery is split into one task per this many enabled nodes, at most EDGE_DELIVERY_MAX_TASKS.
EDGE_DELIVERY_NODES_PER_TASK = env_int("EDGE_DELIVERY_NODES_PER_TASK", 250)
EDGE_DELIVERY_MAX_TASKS = env_int("EDGE_DELIVERY_MAX_TASKS", 8)
# When each node applied each revision is kept this many days (revision history), then pruned hourly.
EDGE_APPLIED_HISTORY_DAYS = env_int("EDGE_APPLIED_HISTORY_DAYS", 30)
CELERY_BEAT_SCHEDULE = {
    "edge-reconcile": {"task": "edge.reconcile", "schedule": EDGE_RECONCILE_INTERVAL},
    "edge-prune-history": {"task": "edge.prune_history", "schedule": 3600.0},
}

# Origins cannot point inside (loopback, link-local, private, shared, multicast, reserved ranges, the edge
# nodes' own addresses: edge_agent.addresses); these networks are allowed anyway (a lab, the demo, tests).
ORIGIN_ALLOWED_NETWORKS = env_list("ORIGIN_ALLOWED_NETWORKS", [])
try:
    parse_networks(ORIGIN_ALLOWED_NETWORKS)
except ValueError as _exc:
    raise ImproperlyConfigured(f"ORIGIN_ALLOWED_NETWORKS: {_exc}.") from None

# Domain ownership verification: the DNS servers that TXT records (and the file's host) are looked up with
# (ADDRESS[:PORT], comma-separated; default the host's), and the file fetch's ports and limits.
VERIFY_DNS_RESOLVER = env_list("VERIFY_DNS_RESOLVER", [])
for _resolver in VERIFY_DNS_RESOLVER:
    try:
        parse_resolver(_resolver)
    except ValueError:
        raise ImproperlyConfigured(
            f"VERIFY_DNS_RESOLVER: {_resolver!r} is not ADDRESS or ADDRESS:PORT, such as 127.0.0.1:53."
        ) from None
VERIFY_TIMEOUT = env_float("VERIFY_TIMEOUT", 5.0)
VERIFY_HTTP_PORT = env_int("VERIFY_HTTP_PORT", 80)
VERIFY_HTTPS_PORT = env_int("VERIFY_HTTPS_PORT", 443)
# CA certificates the file's HTTPS site is verified against (default: the bundle httpx ships).
VERIFY_CA_BUNDLE = env_str("VERIFY_CA_BUNDLE", "")

# Alibaba-compatible API flow control (alibaba_api.throttling), counted in the cache across web processes:
# calls per second per AccessKey ("Throttling") and per account ("Throttling.User"), and the lockout of an
# AccessKey ID or client address after failed signatures. 0 turns a limit off.
ALIBABA_API_RATE_LIMIT = env_int("ALIBABA_API_RATE_LIMIT", 0)
ALIBABA_API_ACCOUNT_RATE_LIMIT = env_int("ALIBABA_API_ACCOUNT_RATE_LIMIT", 40)
ALIBABA_API_FAILURE_LIMIT = env_int("ALIBABA_API_FAILURE_LIMIT", 10)
ALIBABA_API_FAILURE_WINDOW = env_int("ALIBABA_API_FAILURE_WINDOW", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per push would drown the log of a fan-out to many nodes.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # A line for every successful log-on otherwise; lockouts are logged by accounts.lockout.
        "axes": {"level": "WARNING"},
    },
}
