"""opsportal settings, read from the environment.

Every variable is listed in README.md ("Configuration"). With nothing set the portal
runs in debug mode on a SQLite file with Celery tasks executed in-process, so a
newcomer can start it with `make run`; production sets DJANGO_DEBUG=0,
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "django-insecure-opsportal-development-key-do-not-use-in-production-0123"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets, served from our own static files
    "django_filters",
    "django_celery_beat",
    "axes",
    # The portal's apps, lowest layer first (docs/DEVELOPING.md "Layers").
    "opsportal.audit",
    "opsportal.accounts",
    "opsportal.notifications",
    "opsportal.signoffs",
    "opsportal.library",
    "opsportal.approvals",
    "opsportal.controls",
    "incidents",
    "drills",
    "opsportal.drift",
    "opsportal.reports",
]

MIDDLEWARE = [
    # Request latency for /metrics, timing everything below it.
    "opsportal.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "opsportal.core.middleware.RequestContextMiddleware",
    # NUL in a query parameter or form field: 400 here, never a DataError later.
    "opsportal.core.middleware.RejectNulMiddleware",
    # The API's query parameters are single values: `?page=1&page=2` is a 400.
    "opsportal.core.middleware.RejectRepeatedQueryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs login except the ones marked @login_not_required (login, /health,
    # the token-authenticated API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: answers a sign-in refused by the lockout (below) with its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
WSGI_APPLICATION = "opsportal.wsgi.application"
ASGI_APPLICATION = "opsportal.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when PostgreSQL is unreachable: /health and the gate must answer
    # "unhealthy"/HALT within a couple of seconds, not hang.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 3
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "opsportal",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Brute-force protection. Sign-in (django-axes): a username is locked out from one
# address after OPSPORTAL_LOGIN_FAILURE_LIMIT wrong passwords in a row, for
# OPSPORTAL_LOGIN_LOCKOUT_SECONDS after the last one, the right password included;
# every lockout is audited (auth.locked_out). Step-up passwords (approve, reject, sign
# off, complete a recovery) lock the same way per user (opsportal/accounts/step_up.py).
OPSPORTAL_LOGIN_FAILURE_LIMIT = env_int("OPSPORTAL_LOGIN_FAILURE_LIMIT", 5)
OPSPORTAL_LOGIN_LOCKOUT_SECONDS = env_int("OPSPORTAL_LOGIN_LOCKOUT_SECONDS", 15 * 60)
AUTHENTICATION_BACKENDS = [
    "opsportal.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = OPSPORTAL_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=OPSPORTAL_LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are on the audit trail already
AXES_LOCKOUT_CALLABLE = "opsportal.accounts.views.lockout_response"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app/static folders so neither `make run` nor the tests need
# collectstatic; production may run collectstatic and still works.
WHITENOISE_USE_FINDERS = True
# Files served at the site root without a login: /favicon.ico (browsers ask for it on
# every page; a 404 there filled the logs).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing.
MEDIA_ROOT = Path(os.environ.get("OPSPORTAL_MEDIA_ROOT", BASE_DIR / "var" / "media"))

# --- Audit trail (docs/audit.md) ---
# The HMAC key that signs checkpoints and export manifests lives outside the database.
# Its id (first 12 hex digits of its SHA-256) is recorded with each signature; keys
# retired by a rotation stay in OPSPORTAL_AUDIT_PREVIOUS_SIGNING_KEYS (comma-separated)
# so older checkpoints still verify.
AUDIT_SIGNING_KEY = os.environ.get("OPSPORTAL_AUDIT_SIGNING_KEY", "")
if not AUDIT_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "OPSPORTAL_AUDIT_SIGNING_KEY is required when DJANGO_DEBUG is off"
        )
    # Development only: a key derived from the secret key (its own key id).
    AUDIT_SIGNING_KEY = "dev-derived:" + SECRET_KEY
AUDIT_PREVIOUS_SIGNING_KEYS = env_list("OPSPORTAL_AUDIT_PREVIOUS_SIGNING_KEYS", [])
AUDIT_RETENTION_DAYS = env_int("OPSPORTAL_AUDIT_RETENTION_DAYS", 7 * 365 + 2)
# How long the sealer waits after the first commit of a burst before it links the
# burst into the chain: commits in that window share one seal (docs/audit.md). The
# issue's bound on commit-to-sealed is 2 s.
AUDIT_SEAL_DELAY_MS = env_int("OPSPORTAL_AUDIT_SEAL_DELAY_MS", 500)

# --- Security (python manage.py check --deploy --fail-level WARNING passes with
# DJANGO_DEBUG=0 and the required variables set) ---
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_SECONDS", 12 * 3600)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4 format): everything from this origin only, no
# inline or injected script (templates load static/js/*.js; no on* attributes), no
# <style> elements (static/css/portal.css). Style *attributes* stay allowed
# (`style-src-attr`): templates use a few for layout, Swagger UI sets them from its
# script, and a style attribute cannot run code. data: images are Swagger UI's icons.
# The JSON API (/api/v1/, the gate's hot path) renders nothing and needs no policy.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Notifications: email over SMTP, links back to the portal ---
# With EMAIL_HOST unset, email goes to the console (the quick start has no mail server).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "opsportal <opsportal@localhost>")
# Absolute links in emails and webhooks ("https://opsportal.example.com").
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Seconds a webhook POST may take before it counts as failed (and is retried).
NOTIFICATIONS_WEBHOOK_TIMEOUT = env_int("NOTIFICATIONS_WEBHOOK_TIMEOUT", 10)
# How often the header asks for the unread notification count (static/js/notifications_poll.js).
NOTIFICATIONS_POLL_SECONDS = env_int("NOTIFICATIONS_POLL_SECONDS", 30)

# --- /metrics (Prometheus): open to these client addresses, or to the scrape token ---
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Celery: with REDIS_URL unset, tasks run in-process (eager) ---
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every periodic job, in one place. django-celery-beat copies these entries into its
# tables when beat starts, where admins can then pause or re-time them.
CELERY_BEAT_SCHEDULE = {
    "approvals-expire-due": {
        "task": "opsportal.approvals.tasks.approvals_expire_due_task",
        "schedule": 60.0,
    },
    "incidents-escalate-due": {
        "task": "incidents.tasks.incidents_escalate_due_task",
        "schedule": 60.0,
    },
    "notifications-deliver-due": {
        "task": "opsportal.notifications.tasks.notifications_deliver_due_task",
        "schedule": 60.0,
    },
    "audit-seal": {
        # The backstop: audit_record also queues a seal after each commit.
        "task": "opsportal.audit.tasks.audit_seal_task",
        "schedule": 10.0,
    },
    "audit-checkpoint": {
        "task": "opsportal.audit.tasks.audit_checkpoint_task",
        "schedule": 3600.0,
    },
    "audit-verify-daily": {
        "task": "opsportal.audit.tasks.audit_verify_task",
        "schedule": 86400.0,
    },
    "drills-overdue-scan": {
        "task": "drills.tasks.drills_overdue_scan_task",
        "schedule": 3600.0,
    },
    # Post-incident reviews and action items past their deadline: flagged once, on
    # the incident timeline, with the people concerned told (docs/incidents.md).
    "incident-reviews-overdue": {
        "task": "incidents.tasks.reviews_overdue_task",
        "schedule": 300.0,
    },
    # Fans out one check per due time source / configuration target (each has its own
    # interval); also marks sources stale whose checks stopped (docs/drift.md).
    "drift-dispatch": {
        "task": "opsportal.drift.tasks.drift_dispatch_due_task",
        "schedule": 10.0,
    },
    # The monthly operations and compliance report for the month before (docs/reports.md).
    "reports-monthly": {
        "task": "opsportal.reports.tasks.reports_monthly_task",
        "schedule": crontab(minute=30, hour=0, day_of_month=1),
    },
}

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "opsportal.controls.authentication.GateTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["opsportal.core.api.DeclaredPermission"],
    # JSON bounded in size and depth, no NUL (400 naming the problem, never a 500).
    "DEFAULT_PARSER_CLASSES": [
        "opsportal.core.api.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "opsportal.core.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "opsportal API",
    "DESCRIPTION": "Gate decisions for trading engines and control actions for people.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "opsportal.api_schema.add_gate_path",
        "opsportal.api_schema.add_error_responses",
        "opsportal.api_schema.allow_empty_query_values",
    ],
    # The API is a JSON API: the schema documents JSON bodies only (the form parsers
    # stay on for the browsable API and existing clients, but are not a contract).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN at @latest.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; name each enum in the schema after its model.
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Status",
        "ApprovalRequestStatusEnum": "opsportal.approvals.models.ApprovalRequest.Status",
        "DrillActionItemStatusEnum": "drills.models.runs.DrillActionItem.Status",
        "ReportKindEnum": "opsportal.reports.models.Kind",
        "ReportStateEnum": "opsportal.reports.models.Report.State",
        "DrillRunStateEnum": "drills.models.runs.DrillRun.State",
        "ReviewStateEnum": "incidents.reviews.models.ReviewState",
        "ReviewActionItemStatusEnum": "incidents.reviews.models.ActionItem.Status",
        "ReviewActionItemKindEnum": "incidents.reviews.models.ActionItem.Kind",
        "ClockStatusEnum": "opsportal.drift.models.ClockStatus",
    },
}

# --- Domain settings (durations in seconds; tests shorten them) ---
OPSPORTAL_DEMO_PASSWORD = os.environ.get("OPSPORTAL_DEMO_PASSWORD", "opsportal-demo")
# Reports: seconds a report task waits between writing its temporary files and moving
# them into place. 0 in production; the kill test widens the window (docs/reports.md).
OPSPORTAL_REPORTS_PAUSE_BEFORE_MOVE_SECONDS = env_int(
    "OPSPORTAL_REPORTS_PAUSE_BEFORE_MOVE_SECONDS", 0
)
OPSPORTAL_PROCEDURES_DIR = BASE_DIR / "opsportal" / "library" / "procedures"
# Kill switch: seconds after a trigger before recovery may start (DESIGN, default 300).
OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = env_int("OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS", 300)
# Live transition: minimum time in DRY_RUN, and the block on re-enabling LIVE after a
# rollback (live-trading runbook 1.6.4 and the rollback procedure: 24 h each).
OPSPORTAL_MIN_DRY_RUN_SECONDS = env_int("OPSPORTAL_MIN_DRY_RUN_SECONDS", 24 * 3600)
OPSPORTAL_ROLLBACK_BLOCK_SECONDS = env_int("OPSPORTAL_ROLLBACK_BLOCK_SECONDS", 24 * 3600)
# "Kill switch verified/drilled within" window for the live transition (runbook 4).
OPSPORTAL_KILL_SWITCH_DRILL_MAX_AGE_SECONDS = env_int(
    "OPSPORTAL_KILL_SWITCH_DRILL_MAX_AGE_SECONDS", 24 * 3600
)
# Gate lease: an engine treats a gate answer older than this as HALT.
OPSPORTAL_GATE_LEASE_SECONDS = env_int("OPSPORTAL_GATE_LEASE_SECONDS", 5)
# Gate read as a statement prepared once per connection; set 0 behind a
# transaction-pooling PgBouncer older than 1.21.
OPSPORTAL_GATE_PREPARED = env_bool("OPSPORTAL_GATE_PREPARED", default=True)
# Lifetime of one gate event stream (SSE) before the engine reconnects.
OPSPORTAL_GATE_STREAM_SECONDS = env_int("OPSPORTAL_GATE_STREAM_SECONDS", 300)
# Open gate streams allowed per stream-server process (the production topology runs
# one, so this is the global limit) and per gate token; beyond, 429 + Retry-After.
OPSPORTAL_GATE_STREAM_MAX = env_int("OPSPORTAL_GATE_STREAM_MAX", 1000)
OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN = env_int("OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN", 8)
# Where the ASGI stream server answers (e.g. http://127.0.0.1:8001). Set, the WSGI
# server redirects streams there (307) instead of holding a worker thread per stream.
OPSPORTAL_GATE_STREAM_URL = os.environ.get("OPSPORTAL_GATE_STREAM_URL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "opsportal.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Reports: WeasyPrint logs every layout step and matplotlib its unit guesses
        # at INFO; their warnings still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "matplotlib": {"level": "WARNING"},
    },
}
