"""
Mini CRM settings, read from the environment (see README "Configuration" and .env.example).

With DJANGO_DEBUG off (the default) the app refuses to start without DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS, with a short or placeholder key, or with a `change-me` password in
DATABASE_URL or REDIS_URL: production never runs on a guessable default. With DJANGO_DEBUG=1 a
newcomer gets the embedded stack: SQLite in var/, a local-memory cache, an in-memory channel
layer and eager Celery tasks. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from importlib.util import find_spec
from pathlib import Path

import dj_database_url
import redis.exceptions as redis_errors
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.logging import logging_config
from mini_crm.env import (
    env_bool,
    env_int,
    env_list,
    env_proxies,
    env_required,
    env_str,
    refuse_placeholder_secrets,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # git-ignored: the embedded database, media and collected static

DEBUG = env_bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-dev-only-key-never-used-in-production")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
else:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY", reason="when DJANGO_DEBUG is off")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        env_required("DJANGO_ALLOWED_HOSTS", reason="when DJANGO_DEBUG is off (comma-separated)")
    # A copied .env.example must not reach production: its placeholders are public.
    refuse_placeholder_secrets(
        secret_key=SECRET_KEY,
        urls={"DATABASE_URL": env_str("DATABASE_URL"), "REDIS_URL": env_str("REDIS_URL")},
    )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",  # runserver speaks ASGI (websockets) with no extra step
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "core",
    "clients",
    "reports",
    "live",
    "orders",
    "dashboard",
    "imports",
    "auditlog",
    "history",
    "timeline",
    "backups",
    "api",
    # Last: it deletes a replaced or deleted avatar's file once the transaction commits.
    "django_cleanup.apps.CleanupConfig",
]

MIDDLEWARE = [
    # First: everything after it reads the client's address from REMOTE_ADDR (see "Auth").
    "core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the cookie's or the browser's language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.preferences.PreferencesMiddleware",  # the user's own language and time zone
    "history.middleware.HistoryMiddleware",  # who and through what, for the history (history/)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mini_crm.urls"
WSGI_APPLICATION = "mini_crm.wsgi.application"
ASGI_APPLICATION = "mini_crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Persistent connections with health checks: a new PostgreSQL connection is costly
# (docs/performance.md#persistent-database-connections), and a restart heals by itself.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(exist_ok=True)  # the embedded default: SQLite in the git-ignored var/
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, task broker: Redis when REDIS_URL is set -------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Django's Redis backend, fail-soft: a dead Redis is a logged miss, never a 500 (core/).
    _redis_cache = {
        "BACKEND": "core.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "mini_crm",
        # A slow or dead Redis must not hang a page: fail fast, the caller falls back.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    CACHES = {
        "default": _redis_cache,
        # Sessions read from here, kept in the database (cached_db): a query less a request.
        # A copy whose logout delete Redis missed stays alive at most MAX_TIMEOUT seconds.
        "sessions": {**_redis_cache, "MAX_TIMEOUT": 300},
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Above channels_redis's 5 s blocking read (BZPOPMIN): at redis-py's default of 5 s,
            # an idle socket's read timed out and closed the websocket every 5 s.
            # retry_on_error: a pooled connection that a Redis restart closed fails its next
            # command; redis-py then reconnects and retries it, instead of the send being
            # lost (an order.created no list hears of) or a socket's handshake a 500 (the
            # soak test, bench/soak.py, found both).
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 10,
                        "retry_on_error": [redis_errors.ConnectionError],
                    }
                ],
                "prefix": "mini_crm",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Not cached: a local-memory cache is per process, a logout would not reach the others.
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out credentials
    "core.auth.CachedPermissionsBackend",  # ModelBackend, the permissions read from the cache
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}Validator"}
    for name in ("UserAttributeSimilarity", "MinimumLength", "CommonPassword", "NumericPassword")
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "login"

# Five failed logins for one username from one address lock it out for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A count of proxies or their CIDRs (none by default: a forged X-Forwarded-For changes nothing).
# core.middleware.TrustedProxyMiddleware puts the client's address into REMOTE_ADDR, which axes
# and the DRF throttles read. AXES_PROXY_COUNT is its older name.
TRUSTED_PROXIES = env_proxies("DJANGO_TRUSTED_PROXIES", alias="AXES_PROXY_COUNT")

# --- I18N -----------------------------------------------------------------------------------
# The language of a visitor's browser (Accept-Language) unless they chose one: the switcher in
# the header, or their profile (core/preferences.py). LANGUAGE_CODE is the business's language:
# the fallback, and the monthly report's, which goes to addresses rather than users.
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r}: use one of {dict(LANGUAGES)}.")
# Our own catalogue, before Django's and the libraries': a few of their strings said better.
LOCALE_PATHS = [BASE_DIR / "mini_crm" / "locale"]
# Dates as "Dec 1, 2026" and "1 дек. 2026 г.": each language's formats (mini_crm/formats/).
FORMAT_MODULE_PATH = ["mini_crm.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# In production a proxy serves media once MEDIA_VIEW_PERMISSION is checked (X-Accel-Redirect);
# empty means Django streams the file itself. The uploads are clients' avatars.
MEDIA_ACCEL_REDIRECT_PREFIX = env_str("MEDIA_ACCEL_REDIRECT_PREFIX")
MEDIA_VIEW_PERMISSION = "clients.view_client"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # above: on disk while checked, not in memory
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see README "Deploy").
if env_bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /health/ is probed over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/"]

# Our pages load scripts and styles from our own origin only; inline scripts are not allowed.
SECURE_CSP = {
    **{key: ["'self'"] for key in ("default-src", "script-src", "style-src", "connect-src")},
    **{key: ["'self'"] for key in ("base-uri", "form-action")},
    **{key: ["'none'"] for key in ("object-src", "frame-ancestors")},
    "img-src": ["'self'", "data:"],
}

# --- E-mail (Django 6.1's MAILERS; the classic EMAIL_* names are what the environment sets) ----
_mail = "console" if DEBUG else "smtp"
_email_backend = env_str("EMAIL_BACKEND", f"django.core.mail.backends.{_mail}.EmailBackend")
_smtp_options = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", default=False),
    "timeout": env_int("EMAIL_TIMEOUT", 10),
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mini CRM <crm@localhost>")
SITE_URL = env_str("SITE_URL")  # links in e-mails; empty: the first of ALLOWED_HOSTS
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# "Name <address>" pairs, comma-separated: who gets error reports (and, by default, the report).
MANAGERS = [
    (address.split("<")[0].strip() or address, address.split("<")[-1].rstrip(">").strip())
    for address in env_list("DJANGO_MANAGERS")
]

# --- Celery and the monthly report (reports app; README "Monthly report") ----------------------
# Broker and result backend are the same Redis; without REDIS_URL tasks run eagerly in-process,
# so `make run` needs no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# An eager task's error is logged, not raised into the request that queued it.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # with acks_late: a worker holds one unacked task at a time
# A dead broker must not hang whoever enqueues (a web request, a save): connect within 1 s, give
# up publishing after one quick retry (the caller gets the broker's error).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True  # the worker itself waits for Redis at start
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
    # An acks_late task unacknowledged this long is redelivered: longer than any report run.
    "visibility_timeout": 2 * 3600,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_max": 0.2}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(VAR_DIR / "celerybeat-schedule")
)
# "minute hour day-of-month month day-of-week" in TIME_ZONE: 07:00 on the 1st by default.
REPORT_CRONTAB = env_str("REPORT_CRONTAB", "0 7 1 * *")
try:
    _report_schedule = crontab.from_string(REPORT_CRONTAB)
except (ValueError, IndexError) as error:
    raise ImproperlyConfigured(
        f"REPORT_CRONTAB={REPORT_CRONTAB!r} is not a crontab line such as '0 7 1 * *' ({error})."
    ) from None
CELERY_BEAT_SCHEDULE = {
    "monthly-order-report": {"task": "reports.send_monthly_report", "schedule": _report_schedule},
    # Nightly, in TIME_ZONE: stored roll-ups against fresh aggregates (clients/, dashboard/tasks.py)
    "check-totals": {"task": "clients.check_totals", "schedule": crontab(minute=30, hour=3)},
    "check-rollups": {"task": "dashboard.check_rollups", "schedule": crontab(minute=40, hour=3)},
    # Hourly: each assignee gets the digest once their TASK_DIGEST_HOUR has come (timeline/).
    # A run still queued when the next is due is dropped (expires): the next one does its work.
    "task-digests": {
        "task": "timeline.send_digests",
        "schedule": crontab(minute=5),
        "options": {"expires": 3600},
    },
    # Daily, in TIME_ZONE: the report of every recent month not yet SENT (a beat that was down
    # on the 1st, a month whose retries ran out), trashed clients older than TRASH_DAYS purged,
    # and a backup of the database and the media.
    "report-catch-up": {
        "task": "reports.catch_up",
        "schedule": crontab(minute=15, hour=8),
        "options": {"expires": 12 * 3600},
    },
    "purge-trash": {"task": "clients.purge_trash", "schedule": crontab(minute=50, hour=3)},
    "backup": {
        "task": "backups.backup",
        "schedule": crontab(minute=0, hour=2),
        "options": {"expires": 12 * 3600},
    },
}
# Comma-separated addresses; empty means the addresses in DJANGO_MANAGERS.
REPORT_RECIPIENTS = env_list("REPORT_RECIPIENTS")
# A run that claimed a month this long ago and never finished (a killed worker) may be redone.
# A live run renews its claim every third of this (reports/services.py, _ClaimRenewal).
REPORT_CLAIM_LEASE_MINUTES = env_int("REPORT_CLAIM_LEASE_MINUTES", 15)
# The daily catch-up sends each of the last this many months that is not SENT (0: off).
REPORT_CATCHUP_MONTHS = env_int("REPORT_CATCHUP_MONTHS", 3)
if REPORT_CLAIM_LEASE_MINUTES < 1 or REPORT_CATCHUP_MONTHS < 0:
    raise ImproperlyConfigured(
        "REPORT_CLAIM_LEASE_MINUTES must be at least 1 and REPORT_CATCHUP_MONTHS at least 0."
    )
# Comma-separated addresses ("Name <address>" accepted): who is told when a month's report
# fails for good (empty: the DJANGO_MANAGERS). Django also mails them a server error's
# traceback, which is why the managers are not the default here.
ADMINS = [address.split("<")[-1].rstrip(">").strip() for address in env_list("DJANGO_ADMINS")]
# A CSV larger than this is attached zipped (a month of 1,000,000 orders is ~90 MB raw).
REPORT_ZIP_ABOVE_BYTES = env_int("REPORT_ZIP_ABOVE_BYTES", 5 * 1024 * 1024)

# --- Domain ---------------------------------------------------------------------------------
# A deleted client waits in the trash this many days (restorable with its orders), then the
# daily purge deletes it for good.
TRASH_DAYS = env_int("TRASH_DAYS", 30)
# Backups (backups/): `manage.py backup` and the daily beat task write here, keeping the last
# BACKUP_KEEP of them.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
# A client whose email is at exactly one of these domains becomes VIP when saved.
VIP_EMAIL_DOMAINS = env_list("VIP_EMAIL_DOMAINS", "company.com")
# Imports: largest file and row count, errors kept (the invalid rows' CSV has all), task above.
IMPORT_MAX_MB = env_int("IMPORT_MAX_MB", 20)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
IMPORT_MAX_ERRORS = env_int("IMPORT_MAX_ERRORS", 1_000)
IMPORT_BACKGROUND_KB = env_int("IMPORT_BACKGROUND_KB", 256)
# History (history/): django-auditlog writing history.Entry, changes as JSON values, no IPs.
AUDITLOG_LOGENTRY_MODEL = "history.Entry"
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_REMOTE_ADDR = True
# auditlog's migrations create its own log table even when the model is swapped for ours: an
# unused table whose keys to users broke the tests' flush on PostgreSQL. Without migrations
# the swapped model is never created.
MIGRATION_MODULES = {"auditlog": None}
# The daily task digest goes out at this hour of each assignee's own time zone (timeline/).
TASK_DIGEST_HOUR = env_int("TASK_DIGEST_HOUR", 7)

# --- REST API (api/): DRF + drf-spectacular -------------------------------------------------
# Reads need the view permission, writes staff and the model permission (api.permissions);
# API_PUBLIC_READ=1 opts into anonymous reads (api.checks warns of its old name).
API_PUBLIC_READ = env_bool("API_PUBLIC_READ", default=False)
REST_FRAMEWORK = {
    # Token first: an anonymous write then gets 401 with `WWW-Authenticate: Token`, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ModelPermissions"],
    # JSON only: the interactive docs are Swagger UI at /api/docs/ (the browsable API's
    # templates do not fit the site's strict CSP, and it costs time on every list).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.DjangoFilterBackend",  # django-filter's, skipping an empty filter form
        "api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
    # Throttle counters live in the default cache (Redis in production, shared by workers).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonRateThrottle",
        "api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "600/min"),
    },
    # REMOTE_ADDR, which TrustedProxyMiddleware set (None would trust a forgeable header).
    "NUM_PROXIES": 0,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mini CRM API",
    "DESCRIPTION": (
        "Clients and their orders. Reads need the model's view permission (or API_PUBLIC_READ=1), "
        "writes a staff user with its add, change or delete permission (merge: merge_client). "
        "Authenticate with the session or `Authorization: Token <key>` (/accounts/token/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,  # `avatar` is a file upload in, a URL out
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: no CDN, works offline.
    **dict.fromkeys(["SWAGGER_UI_DIST", "SWAGGER_UI_FAVICON_HREF", "REDOC_DIST"], "SIDECAR"),
    # Each operation's error answers and, with API_PUBLIC_READ, anonymous reads (api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.declare_errors_and_public_reads",
    ],
}

# --- Logging: one line per record to stdout, for the process manager to collect --------------
# LOG_FORMAT: "json" (production's default, core/logging.py) or "line" (development's).
LOG_FORMAT = env_str("LOG_FORMAT", "line" if DEBUG else "json")
if LOG_FORMAT not in ("json", "line"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or line.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))

# A dev dependency, absent from production images.
if DEBUG and env_bool("DJANGO_DEBUG_TOOLBAR", default=True) and find_spec("debug_toolbar"):
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1"]
    # A small handle at the page's edge, not a panel over the page a newcomer first sees.
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}
