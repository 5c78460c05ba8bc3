"""OpenNRM settings: everything comes from the environment and fails closed.

Outside demo mode there is no default secret, DEBUG is off unless asked for, and HTTPS-only
cookies and headers are on. `.env.example` lists every variable read here.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from opennrm.lib import crypto

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("OPENNRM_VAR_DIR", "").strip() or PROJECT_DIR / "var")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    """The variable's value; unset or empty means the default (so `X=` cannot switch X off)."""
    raw = os.environ.get(name, "").strip()
    return raw or default


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name, "")
    if raw == "":
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_days(name: str, default: int) -> int:
    """A number of days (or years) that must be at least 1: a retention period of 0 would
    erase everything on the next run, so a 0 or a negative number stops start-up instead."""
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be 1 or more, not {value}")
    return value


def env_decimal(name: str, default: str) -> Decimal:
    """A positive decimal number (a privacy budget): 0, a negative or a non-number stops
    start-up."""
    raw = env_str(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ImproperlyConfigured(f"{name} must be more than 0, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name, "")
    if raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- Mode -------------------------------------------------------------------------------------
# DEMO is for a first look on a laptop: a default secret, console e-mail, plain HTTP, and the
# printed demo accounts may skip two-factor. A banner on every page says so.
DEMO = env_bool("OPENNRM_DEMO", False)
DEBUG = env_bool("DJANGO_DEBUG", False)
HTTPS = env_bool("OPENNRM_HTTPS", not DEMO)
# Behind exactly one trusted reverse proxy, which sets X-Forwarded-Proto and appends the client's
# address to X-Forwarded-For. Only then are those headers believed (for HTTPS, the audit trail's
# "from where" and lockout by address); otherwise a client could forge them.
BEHIND_PROXY = env_bool("OPENNRM_BEHIND_PROXY", False)

_secret = os.environ.get("DJANGO_SECRET_KEY", "")
if not _secret:
    if not DEMO:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (50+ random characters), "
            "or set OPENNRM_DEMO=true for a local demonstration."
        )
    _secret = "demo-only-insecure-secret-key-never-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = _secret


# --- Encryption at rest -----------------------------------------------------------------------
# Identifying fields and evidence files are encrypted with these keys (docs/adr/0012). Each is
# `id:base64key` (32 random bytes), comma-separated or one per line in the file; the first is the
# primary, which encrypts everything new; the others still decrypt until `rotate_keys` has moved
# everything to the primary. Generate one with `python3 -m opennrm.lib.crypto KEY_ID`.
def _keys(variable: str, file_variable: str, purpose: str) -> list[crypto.Key]:
    try:
        keys = crypto.load_keys(
            env_str(variable, ""),
            env_str(file_variable, "") or None,
            names=(variable, file_variable),
        )
    except crypto.KeyConfigError as problem:
        raise ImproperlyConfigured(str(problem)) from None
    if keys:
        return keys
    if DEMO:
        # !!! DEMO ONLY: a fixed key that anyone can derive from the source code. It protects
        # !!! nothing; it only lets `make run` start without generating keys. Never real data.
        return [crypto.demo_key(purpose)]
    raise ImproperlyConfigured(
        f"{variable} (or {file_variable}) is not set. OpenNRM will not store identifying data "
        f"without it. Generate a key with `python3 -m opennrm.lib.crypto k1` and set "
        f"{variable}=k1:..., or set OPENNRM_DEMO=true for a local demonstration."
    )


ENCRYPTION_KEYS = _keys("OPENNRM_ENCRYPTION_KEYS", "OPENNRM_ENCRYPTION_KEY_FILE", "encryption")
# Keys for the blind indexes (keyed HMAC) that let exact-match search find a name or a date of
# birth without decrypting the table. Separate from the encryption keys: the first is current,
# the others are still searched until `rotate_keys` has recomputed every index.
BLIND_INDEX_KEYS = _keys("OPENNRM_BLIND_INDEX_KEY", "OPENNRM_BLIND_INDEX_KEY_FILE", "blind index")
if crypto.shared_secrets(ENCRYPTION_KEYS, BLIND_INDEX_KEYS):
    raise ImproperlyConfigured(
        "The same key is configured for encryption (OPENNRM_ENCRYPTION_KEYS) and for blind "
        "indexes (OPENNRM_BLIND_INDEX_KEY): give the blind indexes a key of their own."
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEMO or DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    # For its Swagger UI templates and static files: without it ninja loads them from a CDN,
    # which the Content Security Policy (rightly) blocks.
    "ninja",
    "opennrm.audit",
    "opennrm.accounts",
    "opennrm.pages",
    "opennrm.screening",
    "opennrm.cases",
    "opennrm.referrals",
    "opennrm.notifications",
    "opennrm.safety",
    # Migrations only: the history of the accommodation and care tables (ADR 0019).
    "opennrm.support",
    "opennrm.accommodation",
    "opennrm.care",
    "opennrm.casework",
    "opennrm.safeguarding",
    "opennrm.contacts",
    "opennrm.operations",
    "opennrm.linkage",
    "opennrm.statistics",
    "opennrm.decisions",
    "opennrm.policy",
    "opennrm.privacy",
    "opennrm.protection",
    "opennrm.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files stay cacheable; above the rest, so every page, redirect,
    # error page and API answer gets `Cache-Control: no-store`.
    "opennrm.pages.middleware.NoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # /healthz answered whatever the Host header (a load balancer probes by address), before
    # CommonMiddleware checks it; below the middleware above, whose headers it still gets and
    # none of which reads the host for it (it is exempt from the redirect to HTTPS).
    "opennrm.pages.health.HealthCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Oversized bodies (413) and NUL bytes (404/400) are refused before anything reads them.
    "opennrm.pages.middleware.RequestScreeningMiddleware",
    "opennrm.audit.middleware.RequestContextMiddleware",
    "opennrm.accounts.middleware.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "opennrm.pages.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "opennrm.urls"
WSGI_APPLICATION = "opennrm.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "opennrm.jinja2.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.messages.context_processors.messages",
                "opennrm.accounts.context_processors.navigation_context",
            ],
        },
    },
    {
        # Django's own admin still uses Django templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'opennrm.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker use the file at the same time. Transactions take
    # the write lock when they begin (IMMEDIATE): one that had read and then tried to write
    # after another had committed would otherwise fail at once with "database is locked" (the
    # page's autosave racing "Save and continue"). Writers queue for up to 20 seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# The role that owns the schema and runs `manage.py migrate` (PostgreSQL only). Set, DATABASE_URL
# names the application's role, which owns nothing and may not update, delete or truncate the
# audit trail: `migrate` connects with these credentials instead and then grants the application
# role what it needs (audit/roles.py). Only the user and password may differ from DATABASE_URL.
MIGRATION_DATABASE_CREDENTIALS: dict[str, str] | None = None
if _migration_url := env_str("OPENNRM_MIGRATION_DATABASE_URL", ""):
    _migration = dj_database_url.parse(_migration_url)
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "OPENNRM_MIGRATION_DATABASE_URL needs DATABASE_URL to be a PostgreSQL database: "
            "SQLite has no roles"
        )
    for _part in ("ENGINE", "NAME", "HOST", "PORT"):
        if _migration.get(_part) != DATABASES["default"].get(_part):
            raise ImproperlyConfigured(
                f"OPENNRM_MIGRATION_DATABASE_URL must name the same database as DATABASE_URL "
                f"(its {_part.lower()} differs); only the user and password may differ"
            )
    if _migration.get("USER") == DATABASES["default"].get("USER"):
        raise ImproperlyConfigured(
            "OPENNRM_MIGRATION_DATABASE_URL must name another role than DATABASE_URL: the "
            "application's role must not own the tables"
        )
    MIGRATION_DATABASE_CREDENTIALS = {
        "USER": str(_migration.get("USER") or ""),
        "PASSWORD": str(_migration.get("PASSWORD") or ""),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "pages:home"

# Lockout (docs/threat-model.md, threat 1). One client (a network address) that fails
# AXES_FAILURE_LIMIT times at one account is locked out of that account for the cool-off period,
# whatever password it tries next; other clients are not. The client's address is the audit
# trail's (`client_ip`: X-Forwarded-For only behind our proxy), so behind the proxy every client
# is not the proxy. Across all addresses, an account past the limit is throttled, not blocked:
# one attempt per delay that doubles from 2 seconds up to OPENNRM_LOCKOUT_MAX_DELAY_SECONDS
# (`accounts.selectors.sign_in_wait`), so the right person with the right password and code
# still gets in however many strangers know their e-mail address.
AXES_FAILURE_LIMIT = env_int("OPENNRM_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OPENNRM_LOCKOUT_MINUTES", 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "opennrm.audit.middleware.client_ip"
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opennrm.accounts.views.locked_out"
AXES_VERBOSE = False
SIGN_IN_MAX_DELAY_SECONDS = env_int("OPENNRM_LOCKOUT_MAX_DELAY_SECONDS", 300)
if SIGN_IN_MAX_DELAY_SECONDS < 1:
    raise ImproperlyConfigured("OPENNRM_LOCKOUT_MAX_DELAY_SECONDS must be at least 1")

OTP_TOTP_ISSUER = env_str("OPENNRM_OTP_ISSUER", "OpenNRM")

# API rate limits (docs/adr/0013-api-rate-limits.md): requests a minute with one token, and from
# one address without a valid token. Counted in the cache below, shared by every process.
API_TOKEN_REQUESTS_PER_MINUTE = env_int("OPENNRM_API_TOKEN_REQUESTS_PER_MINUTE", 120)
API_ADDRESS_REQUESTS_PER_MINUTE = env_int("OPENNRM_API_ADDRESS_REQUESTS_PER_MINUTE", 30)
for _name, _limit in (
    ("OPENNRM_API_TOKEN_REQUESTS_PER_MINUTE", API_TOKEN_REQUESTS_PER_MINUTE),
    ("OPENNRM_API_ADDRESS_REQUESTS_PER_MINUTE", API_ADDRESS_REQUESTS_PER_MINUTE),
):
    if _limit < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more, not {_limit}")

# Idle timeout: the session ends after this many seconds without a request; a warning is shown
# SESSION_WARNING_SECONDS before that.
SESSION_IDLE_SECONDS = env_int("OPENNRM_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_WARNING_SECONDS = env_int("OPENNRM_SESSION_WARNING_SECONDS", 2 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Confirmations can name what they confirm (an evidence file's name can name a person): they
# wait for the next page in the session on the server, never in a cookie in the browser.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Extra policy profile folders (JSON files, see docs/policy-profiles.md), separated by ":".
POLICY_PROFILE_DIRS = env_str("OPENNRM_POLICY_PROFILE_DIRS", "")

INVITATION_VALID_DAYS = env_int("OPENNRM_INVITATION_VALID_DAYS", 7)

# The differential privacy budget (epsilon) of each analyst for each calendar month: the sum of
# the epsilons of their questions in a month may not exceed it (statistics.dp, ADR 0035).
DP_BUDGET_EPSILON = env_decimal("OPENNRM_DP_BUDGET_EPSILON", "1.0")

# Where readers of the published official statistics write with questions: shown on every
# release and in its spreadsheets (ADR 0036). Empty outside demo until the operator sets it, and
# then no contact is shown.
STATISTICS_CONTACT = env_str("OPENNRM_STATISTICS_CONTACT", "statistics@example.org" if DEMO else "")

# The engine record linkage runs splink on (ADR 0048, ADR 0050): "duckdb", in this process and
# in memory, or "spark", Apache Spark (the 'spark' dependency group and Java 17), for data
# beyond one machine. Spark's master: local threads by default, or a cluster's address.
LINKAGE_ENGINE = env_str("OPENNRM_LINKAGE_ENGINE", "duckdb").lower()
if LINKAGE_ENGINE not in ("duckdb", "spark"):
    raise ImproperlyConfigured(
        f"OPENNRM_LINKAGE_ENGINE must be duckdb or spark, not {LINKAGE_ENGINE!r}"
    )
LINKAGE_SPARK_MASTER = env_str("OPENNRM_LINKAGE_SPARK_MASTER", "local[2]")

# --- HTTP security ----------------------------------------------------------------------------
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# No script reads the CSRF cookie (app.mjs takes the token from the form), so none may.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Load balancers probe /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "opennrm.pages.views.csrf_failure"
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- Static files -----------------------------------------------------------------------------
# Uploaded evidence: outside the static folder and never served by URL, only by access-checked
# views. Back it up with the database.
PRIVATE_FILES_DIR = Path(env_str("OPENNRM_PRIVATE_FILES_DIR", str(VAR_DIR / "private")))
EVIDENCE_MAX_BYTES = env_int("OPENNRM_EVIDENCE_MAX_MB", 10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Retention --------------------------------------------------------------------------------
# How long identifying data is kept (docs/adr/0014-retention-and-erasure.md). A daily task
# pseudonymises what is past it: a person's identifying details once every case of theirs has
# been closed this many years; drafts never submitted, notifications and finished background
# tasks (which hold e-mails) after these many days.
RETENTION_CLOSED_CASE_YEARS = env_days("OPENNRM_RETENTION_CLOSED_CASE_YEARS", 6)
RETENTION_DRAFT_DAYS = env_days("OPENNRM_RETENTION_DRAFT_DAYS", 90)
# How long before an unsubmitted draft is deleted its author is told (and the least notice they
# get: a draft is never deleted sooner than this after the warning).
RETENTION_DRAFT_NOTICE_DAYS = env_days("OPENNRM_RETENTION_DRAFT_NOTICE_DAYS", 14)
if RETENTION_DRAFT_NOTICE_DAYS >= RETENTION_DRAFT_DAYS:
    raise ImproperlyConfigured(
        "OPENNRM_RETENTION_DRAFT_NOTICE_DAYS must be fewer than OPENNRM_RETENTION_DRAFT_DAYS"
    )
RETENTION_NOTIFICATION_DAYS = env_days("OPENNRM_RETENTION_NOTIFICATION_DAYS", 730)
RETENTION_TASK_RESULT_DAYS = env_days("OPENNRM_RETENTION_TASK_RESULT_DAYS", 30)

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Cache ------------------------------------------------------------------------------------
# In the database, so that every process (each web server worker, the background worker) sees
# the same counts for the API's rate limits. The migration api/0002_cache_table creates the table.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "opennrm_cache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}

# --- Background tasks -------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Audit trail ------------------------------------------------------------------------------
# A file the audit trail's head (event count, newest id and hash, time) is appended to every
# AUDIT_ANCHOR_MINUTES by the worker, and that `verify_audit` compares the trail with: keep it
# where the database's administrators cannot write (another host's mount, append-only). Empty:
# no anchoring.
AUDIT_ANCHOR_FILE = env_str("OPENNRM_AUDIT_ANCHOR_FILE", "")
AUDIT_ANCHOR_MINUTES = env_int("OPENNRM_AUDIT_ANCHOR_MINUTES", 60)
if AUDIT_ANCHOR_MINUTES < 1:
    raise ImproperlyConfigured(
        f"OPENNRM_AUDIT_ANCHOR_MINUTES must be 1 or more, not {AUDIT_ANCHOR_MINUTES}"
    )

# --- E-mail -----------------------------------------------------------------------------------
_email_backend = env_str(
    "OPENNRM_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEMO
    else "django.core.mail.backends.smtp.EmailBackend",
)
_smtp_options = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OpenNRM <no-reply@opennrm.invalid>")
# The site's public address, for the links in e-mails (invitations, sign-in resets,
# notifications). No default outside demo mode: a guessed one, the loopback address, would send
# every invited person a link that opens nothing on their computer, or whatever listens there.
SITE_URL = env_str("OPENNRM_SITE_URL", "http://127.0.0.1:8000" if DEMO else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured(
        "OPENNRM_SITE_URL is not set. Set it to the site's public address (the start of every "
        "link in e-mails), for example https://nrm.example.org, or set OPENNRM_DEMO=true for a "
        "local demonstration."
    )
try:
    _site = urlsplit(SITE_URL)
    _site_host = _site.hostname if _site.scheme in ("http", "https") else None
except ValueError:  # a malformed IPv6 address
    _site_host = None
if not _site_host:
    raise ImproperlyConfigured(
        f"OPENNRM_SITE_URL must be the site's address, like https://nrm.example.org, "
        f"not {SITE_URL!r}"
    )

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Logging: one JSON object per line on stderr ----------------------------------------------
LOG_LEVEL = env_str("OPENNRM_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "opennrm.audit.context.RequestContextFilter"},
        "secret_paths": {"()": "opennrm.lib.log_redaction.SecretPathFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            # Every line written, whatever logger wrote it (lib/log_redaction.py).
            "filters": ["request_context", "secret_paths"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # These write a request's path, which for an invitation or a sign-in reset holds its
        # single-use token (lib/log_redaction.py).
        "django.request": {"filters": ["secret_paths"]},
        "django.server": {"filters": ["secret_paths"]},
        "django.security.csrf": {"level": "WARNING", "filters": ["secret_paths"]},
        # Axes logs the username typed; the audit trail already records failures.
        "axes": {"level": "WARNING"},
    },
}

SILENCED_SYSTEM_CHECKS: list[str] = []
