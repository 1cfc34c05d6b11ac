"""Settings for the CRM, read from the environment.

Every value a deployment changes comes from an environment variable; the defaults give a
zero-setup development run on SQLite. With DEBUG off, SECRET_KEY is required and the
security settings default to what `manage.py check --deploy` expects.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_decimal(name: str, default: str) -> Decimal:
    value = os.environ.get(name) or default
    try:
        return Decimal(value)
    except ArithmeticError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "crm.apps.CRMAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "axes",
    "csp",
    "django_guid",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm.apps.CRMConfig",
    "customers",
    "orders",
    "opportunities",
    "followups",
    "accounts",
    "automation",
    "summaries",
]

MIDDLEWARE = [
    # First, so that every log line of a request carries its id (X-Request-ID).
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.middleware.response_headers",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
                "orders.context_processors.approvals",
            ],
        },
    },
]

# Without DATABASE_URL, a SQLite file under var/ lets a first run work with nothing installed.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# An optional PostgreSQL replica: reports and exports read there (crm/db_router.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
REPLICA_READS = os.environ.get("REPLICA_READS", "1") == "1"
DATABASE_ROUTERS = ["crm.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions live in the database so that any number of web processes can serve a user.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RolesWithUserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username + address pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
# One date and one date-time format per language (crm/formats/); numbers: crm/formatting.py.
FORMAT_MODULE_PATH = ["crm.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "var" / "staticfiles")
STATIC_ROOT.mkdir(
    parents=True, exist_ok=True
)  # whitenoise warns about a missing root even when DEBUG serves from finders
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files; `manage.py backup` archives them with the database.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Files of background exports (automation/exports.py): private, handed out only by the download view
    # to the user who asked; outside MEDIA_ROOT, and never served by URL. Any storage backend works
    # (a bucket shared by the workers and the web servers when they run on several machines).
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("EXPORTS_ROOT") or str(BASE_DIR / "var" / "exports")},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", f"django.core.mail.backends.{'console' if DEBUG else 'smtp'}.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ADMINS = [("Operations", address) for address in env_list("ADMIN_EMAILS")]
# Where users open the CRM, for links in emails (e.g. https://crm.example.com); none when empty.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

# Security: on by default whenever DEBUG is off; each can be turned off for a deployment
# that terminates TLS elsewhere and says so.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp), the same with DEBUG on and off: scripts, styles, fonts and
# images come from this site's static files only, never inline (no <script> bodies, no style="…",
# no on…= handlers); htmx is told not to inject its indicator style and not to eval (base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws checkboxes, selects and the navbar toggler with data: SVG images.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page of the CRM uses, refused to any script that might ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# Every request gets an id: an incoming X-Request-ID (a UUID, e.g. nginx's $request_id) or a new
# one; it is echoed in the response and written on each log line of the request (django-guid).
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "RETURN_HEADER": True, "EXPOSE_HEADER": False}

# Logs go to standard error; with DEBUG off, one JSON object a line (python-json-logger) for the log
# collector, with the request id of the request that wrote it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"}
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if DEBUG else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django_guid": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Rows per page of every list.
LIST_PAGE_SIZE = 25
# A list counts its rows up to this many for the total beside the pager, then shows "1,000+":
# the count's cost stays flat however large the table grows (crm/pagination.py). At 10,000 a
# salesperson's open follow-ups at 1,000,000 customers (about 5,500) stayed below it, and counting
# those visible through their customers read the whole table (218 ms).
LIST_COUNT_LIMIT = 1_000
# A search box reads at most this many matches (crm/search.py): a list searched by a fragment that
# more rows share shows and counts the first ones, "200+", whatever the table's size.
SEARCH_MATCH_LIMIT = 200
# An export up to this size is built whole and sent with its length (a failing row fails the
# request); a larger CSV streams as its rows are read (crm/exports.py).
EXPORT_BUFFER_BYTES = int(os.environ.get("EXPORT_BUFFER_BYTES", str(1024 * 1024)))
# An export of more rows than this is written by a background worker and announced by a notification
# with a download link (automation/exports.py); the page counts no further than this to decide.
EXPORT_BACKGROUND_ROWS = int(os.environ.get("EXPORT_BACKGROUND_ROWS", "50000"))
# A background export's file can be downloaded for this many hours, then the scheduler deletes it.
EXPORT_KEEP_HOURS = int(os.environ.get("EXPORT_KEEP_HOURS", "72"))

# Orders whose total is above this amount need a manager to confirm them.
ORDER_APPROVAL_LIMIT = env_decimal("ORDER_APPROVAL_LIMIT", "100000")
# The tax rate (percent) a new order starts with: orders won from deals, and the new-order form.
DEFAULT_TAX_RATE = env_decimal("DEFAULT_TAX_RATE", "13")

# The REST API (crm/api/): hashed, expiring tokens (django-rest-knox) for integrations and the session
# for the browser; one exception handler, keyset pagination, a request rate per token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.KeysetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests a token (or a signed-in browser) may make, e.g. "600/minute"; more answer 429 with Retry-After.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/minute")
# Days an API token lives unless its creator chooses otherwise; at most API_TOKEN_MAX_DAYS.
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
API_TOKEN_MAX_DAYS = 365
# Hours the answers to POSTs with an Idempotency-Key are kept, and days a spent one-time form token is
# (both pruned nightly by the scheduler, or by `manage.py prune_spent_keys`).
API_IDEMPOTENCY_HOURS = int(os.environ.get("API_IDEMPOTENCY_HOURS", "48"))
FORM_TOKEN_DAYS = int(os.environ.get("FORM_TOKEN_DAYS", "7"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "crm_",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customers, products, orders, opportunities, communications and follow-ups: "
    "the same rules and visibility as the pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set that several models or fields share a field name with.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Status",
        "PaymentMethodEnum": "orders.models.PaymentMethod",
        "CustomerKindEnum": "customers.models.Customer.Kind",
        "StageKindEnum": "opportunities.models.Stage.Kind",
        "NeedStatusEnum": "customers.models.Need.Status",
        "FollowUpStatusEnum": "followups.models.FollowUp.Status",
        "ContactMethodTypeEnum": "customers.models.ContactMethod.Type",
        "NeedTypeEnum": "customers.models.Need.Type",
        "OrderEventTypeEnum": "orders.models.OrderEventType",
        "OpportunityEventTypeEnum": "opportunities.models.OpportunityEventType",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.document_errors_and_headers",
    ],
}

# Django's widget templates, with select boxes written in Python (crm/form_renderer.py: the same HTML).
FORM_RENDERER = "crm.form_renderer.FormRenderer"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# A history record's change reason is a code with parameters (crm/history.py), rendered when shown;
# a text column holds them whatever their length.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Background work (django-tasks with its database backend): a task row is written in the transaction
# that enqueues it; `manage.py db_worker` processes run them, as many as needed, on any machine.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Outgoing e-mail and webhook deliveries: attempts before a message is marked failed, and the first
# retry's delay in seconds (doubled at each further attempt).
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))
OUTBOX_RETRY_BASE_SECONDS = int(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "60"))
# A delivery claimed by a worker that has not finished it in this many seconds (the worker died) is
# taken up again by the next sweep.
OUTBOX_CLAIM_TIMEOUT_SECONDS = int(os.environ.get("OUTBOX_CLAIM_TIMEOUT_SECONDS", "300"))
# A task a worker started this long ago and never finished (the worker died) is made ready again.
TASKS_RUNNING_TIMEOUT_SECONDS = int(os.environ.get("TASKS_RUNNING_TIMEOUT_SECONDS", "3600"))
# /readyz fails when a task has waited this long to be started: no worker is taking the queue.
TASKS_MAX_WAIT_SECONDS = int(os.environ.get("TASKS_MAX_WAIT_SECONDS", "600"))
# A webhook endpoint is paused after this many deliveries in a row failed for good.
WEBHOOK_PAUSE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_PAUSE_AFTER_FAILURES", "3"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Webhooks go to public addresses only, unless this is on (a receiver inside the company network).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
# How often the scheduler enqueues the automation rules, and the hour (TIME_ZONE) of the reminder digests.
AUTOMATION_RULES_EVERY_MINUTES = int(os.environ.get("AUTOMATION_RULES_EVERY_MINUTES", "5"))
REMINDER_DIGEST_HOUR = int(os.environ.get("REMINDER_DIGEST_HOUR", "8"))
# An SMTP connection that hangs longer than this is an error (and the e-mail is retried).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
