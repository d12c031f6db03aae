"""Settings for the test suite: the production settings with a fixed key and fast password hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault(
    "CONSOLE_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test")
)

# Lockout and throttling are tested where they are the subject (with their own limits, or processes started
# with these variables set): the rest of the suite logs on and calls as often as it needs.
for _name, _value in {
    # Served over plain HTTP: no HTTPS-only cookies nor redirect.
    "SECURE_SSL": "false",
    "LOGIN_FAILURE_LIMIT": "100000",
    "API_THROTTLE_USER": "1000000/min",
    "API_THROTTLE_ANON": "1000000/min",
    "API_THROTTLE_TOKEN": "1000000/min",
    "ALIBABA_API_ACCOUNT_RATE_LIMIT": "0",
    "ALIBABA_API_FAILURE_LIMIT": "0",
    # Ownership verification never asks the outside world: nothing answers DNS there, at once (the tests of
    # verification run a DNS server of their own).
    "VERIFY_DNS_RESOLVER": "127.0.0.1:9",
    "VERIFY_TIMEOUT": "2",
}.items():
    os.environ.setdefault(_name, _value)

from console.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# The suite's own broker folder, SQLite file and cache: never those of a console running from `make run`.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

# Static files come from the finders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# The suite's origins: loopback servers it starts, and the documentation ranges of its examples.
ORIGIN_ALLOWED_NETWORKS = [
    "127.0.0.0/8",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "2001:db8::/32",
]
# ... and the edge agents the suite starts allow the same networks.
os.environ.setdefault("EDGE_AGENT_ORIGIN_ALLOW", ",".join(ORIGIN_ALLOWED_NETWORKS))
