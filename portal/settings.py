"""Settings for Erhvervsfremmeportalen, read from the environment.

Every variable is listed in ``.env.example``. The small ``env_*`` helpers fail at start-up with a
clear message when a value cannot be parsed, so a typo never turns into a silent default.

Development mode is explicit: ``PORTAL_DEV=true`` (set by ``portal/dev.py`` for ``make run`` and
``make test``) or ``DEBUG=true``. Only then may ``DATABASE_URL`` and ``REDIS_URL`` be left unset, in
which case the portal starts its own embedded PostgreSQL and Redis (see ``portal/embedded.py``).
Anywhere else a missing ``DATABASE_URL`` stops the start-up: a container that lost its environment
must not come up in debug mode with a public development key.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
TESTING = "pytest" in sys.modules or os.environ.get("PORTAL_TESTING") == "1"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_decimal(name: str, default: str, *, minimum: str | None = None) -> Decimal:
    value = os.environ.get(name, default)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a decimal number, not {value!r}.") from None
    if not number.is_finite() or (minimum is not None and number < Decimal(minimum)):
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value!r}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, default)
    if value is None or value == "":
        return None
    parsed = urlparse(value)
    if not parsed.scheme:
        raise ImproperlyConfigured(
            f"{name} must be a URL such as scheme://host/path, not {value!r}."
        )
    return value


def env_date(name: str, default: str) -> date:
    """An ISO date; unset or empty is ``default``."""
    value = os.environ.get(name) or default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a date such as 2026-12-06, not {value!r}."
        ) from None


def env_networks(name: str) -> list[str]:
    """Comma-separated addresses or CIDRs (``10.0.0.0/8, 192.0.2.7``), each checked at start-up."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks such as 10.0.0.0/8, not {item!r}."
            ) from None
    return networks


# --- Development mode and embedded services ---------------------------------------------------

_portal_dev = env_bool("PORTAL_DEV", False)
DEBUG = env_bool("DEBUG", default=_portal_dev)
# A developer machine or the test suite: embedded services and demo logins are allowed.
DEVELOPMENT_MODE = _portal_dev or DEBUG

_database_url = env_url("DATABASE_URL")
_redis_url = env_url("REDIS_URL")
EMBEDDED_SERVICES = _database_url is None or _redis_url is None
if EMBEDDED_SERVICES and not DEVELOPMENT_MODE:
    _missing = " and ".join(
        name
        for name, url in (("DATABASE_URL", _database_url), ("REDIS_URL", _redis_url))
        if not url
    )
    raise ImproperlyConfigured(
        f"Set the environment variable {_missing}. Only in development (PORTAL_DEV=true, as "
        "make run and make test set it, or DEBUG=true) does the portal start its own embedded "
        "PostgreSQL and Redis instead."
    )

if _database_url is None:
    from portal import embedded

    _database_url = embedded.postgres_url()
if _redis_url is None:
    from portal import embedded

    _redis_url = embedded.redis_url()

DATABASE_URL: str = _database_url
REDIS_URL: str = _redis_url

# --- Core -------------------------------------------------------------------------------------

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-never-used-in-production")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure"):
        raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The maintenance switch (portal/maintenance.py): on by setting, or while the file exists.
MAINTENANCE_MODE = env_bool("MAINTENANCE_MODE", False)
MAINTENANCE_FILE = env_str("MAINTENANCE_FILE", str(VAR_DIR / "maintenance"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "core",
    "accounts",
    "offers",
    "crm",
    "routing",
    "evaluation",
    "governance",
    "partners",
    "portal",
]

MIDDLEWARE = [
    # Before anything reads a header: control characters answer 400, and forwarded headers from
    # peers that are not our proxies are dropped.
    "portal.middleware.RequestHeadersMiddleware",
    # Which cursor a request's statements use (portal/db: DB_SERVER_SIDE_BINDING=public).
    "portal.middleware.PublicBindingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Health checks answer before the host check and the maintenance switch (portal/health.py).
    "portal.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.maintenance.MaintenanceMiddleware",
    # A database outage answers 503 with Retry-After, not 500 (portal/outage.py).
    "portal.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Outside CommonMiddleware, so a missing trailing slash is still redirected first.
    "portal.middleware.ApiNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A POST the browser says is from our own pages needs no token (portal/csrf.py), so public
    # pages carry no per-visitor token and can be cached; everything else: Django's token check.
    "portal.csrf.FetchMetadataCsrfMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "governance.middleware.PageViewMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "offers.hub_terms.context",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------------

_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
if _db.get("OPTIONS", {}).get("host"):
    # A unix-socket URL (postgresql://user@/db?host=/path) as the embedded server gives.
    _db["HOST"] = _db["OPTIONS"].pop("host")
_db["CONN_HEALTH_CHECKS"] = True
# A database that does not answer fails a request within seconds (a 503, portal/outage.py) instead
# of holding a web worker until the proxy gives up.
_db.setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
)
# Server-side binding lets psycopg prepare a statement a connection has sent DB_PREPARE_THRESHOLD
# times with the same text and parameter types, so PostgreSQL does not parse it again, and with
# DB_PLAN_CACHE_MODE=auto (PostgreSQL's default) may reuse one generic plan after five runs.
# DB_SERVER_SIDE_BINDING: "public" (the default) for the requests of the public site only
# (portal/db: the admin, /analyse/, the workers and the commands bind client-side), "true" for
# everything, "false" for nothing. Measured (README, Beyond one machine): the public reads and the
# guidance requests cost less, but the advisers' shared case history took twice as long on a generic
# plan, and with force_custom_plan the gain was gone; hence "public". With "true", PostgreSQL binds
# at most 65,535 parameters per statement (long ``__in`` lists go in slices). A pooler in front must
# keep a session's prepared statements.
_binding = os.environ.get("DB_SERVER_SIDE_BINDING", "public").strip().lower()
if _binding not in {"public", *_TRUE, *_FALSE}:
    raise ImproperlyConfigured(
        f"DB_SERVER_SIDE_BINDING must be public, true or false, not {_binding!r}."
    )
_db["ENGINE"] = "portal.db"
DB_PUBLIC_SERVER_SIDE_BINDING = _binding == "public"
if _binding in _TRUE:
    _db["OPTIONS"]["server_side_binding"] = True
if _binding not in _FALSE:
    _db["OPTIONS"]["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 5, minimum=0)
    _plan_cache_mode = os.environ.get("DB_PLAN_CACHE_MODE", "auto").strip()
    if _plan_cache_mode not in {"auto", "force_custom_plan", "force_generic_plan"}:
        raise ImproperlyConfigured(
            "DB_PLAN_CACHE_MODE must be auto, force_custom_plan or force_generic_plan, "
            f"not {_plan_cache_mode!r}."
        )
    _db["OPTIONS"]["options"] = " ".join(
        part
        for part in (_db["OPTIONS"].get("options", ""), f"-c plan_cache_mode={_plan_cache_mode}")
        if part
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The database cache is shared by every process and needs only PostgreSQL, so rate limits and
# idempotency keep working while Redis is down (routing never depends on Redis).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_cache",
    },
}

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
# Login lockout: five failed attempts per user name and address lock for an hour.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/lockout.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address"]
# The client behind our proxies, not the proxy (core/clientip.py).
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"
LOGIN_URL = "/admin/login/"

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Dansk")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["portal.formats"]
LANGUAGE_COOKIE_SECURE = env_bool("COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if WHITENOISE_USE_FINDERS:
    # Served from the finders here; whitenoise still expects the folder collectstatic fills.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Security ---------------------------------------------------------------------------------

# The proxies in front of the portal (CIDRs). Only from them are X-Forwarded-For (the client's
# address, core/clientip.py) and X-Forwarded-Proto (portal/middleware.py) believed; empty trusts
# no one, and every client is then the address it connects from.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Secure cookies except on a developer machine; COOKIE_SECURE=false only for a plain-http trial.
COOKIE_SECURE = env_bool("COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_SECURE = COOKIE_SECURE
CSRF_COOKIE_SECURE = COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10  # one working day
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preloading is close to irreversible (browsers ship the list for months), so it is an explicit
# decision for the domain's owner, not a default; check --deploy's reminder is silenced until then.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Load balancers and container health checks speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_VIEW = "core.ratelimit.ratelimited"
# key="ip" counts the client behind our proxies, not the proxy (core/clientip.py).
RATELIMIT_IP_META_KEY = "core.clientip.client_ip"

# --- Public answers under load (offers/public_cache.py, governance/middleware.py) ---------------

# Anonymous answers of the home page, the search and the offer pages (pages and API) are kept per
# process under the catalogue's version and carry ETag and Cache-Control: public.
PUBLIC_CACHE_ENABLED = env_bool("PUBLIC_CACHE_ENABLED", True)
# Bytes of kept answers per process (a search page is about 100 kB).
PUBLIC_CACHE_BYTES = env_int("PUBLIC_CACHE_BYTES", 48 * 1024 * 1024, minimum=0)
# max-age a proxy or browser may reuse a public answer for without asking; 0 (no-cache): it asks
# every time and gets a 304 while the catalogue is unchanged, so no one sees a withdrawn offer.
PUBLIC_CACHE_MAX_AGE = env_int("PUBLIC_CACHE_MAX_AGE", 0, minimum=0)
# A Redis the web processes share kept answers through (off when empty); a database of its own,
# not the broker's, since its keys may be evicted. Entries live this many seconds.
PUBLIC_CACHE_REDIS_URL = env_str("PUBLIC_CACHE_REDIS_URL", "")
PUBLIC_CACHE_SHARED_SECONDS = env_int("PUBLIC_CACHE_SHARED_SECONDS", 300, minimum=1)
# A thread of each web process LISTENs for the version's moves on a connection of its own, so a
# kept answer needs no query; the version read last is trusted for at most this many milliseconds
# whatever arrives (0: ask PostgreSQL on every request). Needs a direct connection or a pooler in
# session mode: in transaction mode the notifications go to another client (the limit holds).
PUBLIC_VERSION_LISTEN = env_bool("PUBLIC_VERSION_LISTEN", True)
PUBLIC_VERSION_TRUST_MS = env_int("PUBLIC_VERSION_TRUST_MS", 1000, minimum=0)
# Page views are added up in the process and written at most this many seconds apart (0: at once).
PAGE_VIEW_FLUSH_SECONDS = env_int("PAGE_VIEW_FLUSH_SECONDS", 2, minimum=0)

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_BACKEND_NAME = env_str("EMAIL_BACKEND", "file" if DEBUG else "smtp")
_email_options: dict[str, object]
if EMAIL_BACKEND_NAME == "file":
    # Development: every message is written to var/mail/ for reading.
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
elif EMAIL_BACKEND_NAME == "smtp":
    _email_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587, minimum=1),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": 20,
    }
elif EMAIL_BACKEND_NAME in {"console", "locmem"}:
    _email_options = {}
else:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND must be smtp, file, console or locmem, not {EMAIL_BACKEND_NAME!r}."
    )
MAILERS = {
    "default": {
        "BACKEND": f"django.core.mail.backends.{
            {'file': 'filebased', 'smtp': 'smtp', 'console': 'console', 'locmem': 'locmem'}[
                EMAIL_BACKEND_NAME
            ]
        }.EmailBackend",
        "OPTIONS": _email_options,
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Erhvervsfremmeportalen <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Shown on /om/: questions about the portal itself, and accessibility problems (the accessibility
# statement must name a route of its own, not the guidance form that opens a case at a hub).
PORTAL_CONTACT_EMAIL = env_str("PORTAL_CONTACT_EMAIL", "kontakt@erhvervsfremmeportalen.dk")
PORTAL_ACCESSIBILITY_EMAIL = env_str(
    "PORTAL_ACCESSIBILITY_EMAIL", "tilgaengelighed@erhvervsfremmeportalen.dk"
)
# The accessibility statement on /om/: the day it was last reviewed (an ISO date; review it when
# the portal changes and at least once a year), the official statement made with
# Digitaliseringsstyrelsen's WAS-Tool (its address on was.digst.dk once published; /om/ links
# to it and says it is published only when set), and where a complaint goes
# (Digitaliseringsstyrelsen's enforcement).
ACCESSIBILITY_STATEMENT_DATE = env_date("ACCESSIBILITY_STATEMENT_DATE", "2026-12-06")
ACCESSIBILITY_STATEMENT_URL = env_url("ACCESSIBILITY_STATEMENT_URL") or ""
ACCESSIBILITY_COMPLAINT_URL = (
    env_url("ACCESSIBILITY_COMPLAINT_URL")
    or "https://digst.dk/digital-inklusion/webtilgaengelighed/oplever-du-ikke-tilgaengeligt-indhold/"
)

# --- Celery -----------------------------------------------------------------------------------


def _celery_broker(url: str) -> str:
    # redis-py spells a unix socket unix:///path; kombu spells it redis+socket:///path.
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url


CELERY_BROKER_URL = _celery_broker(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest task (a whole effect run for one offer), so an unacknowledged task
    # is not handed to a second worker while the first is still on it.
    "visibility_timeout": 2 * 60 * 60,
    "socket_connect_timeout": 2,
    "max_retries": 1,
}
# One quick retry on publish (a pooled connection gone stale after a Redis restart reconnects);
# when Redis is really down a request gives up at once and the outbox sweep sends later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("notifications"), Queue("effects")]
CELERY_TASK_ROUTES = {
    "portal.tasks.*": {"queue": "default"},
    "crm.tasks.*": {"queue": "notifications"},
    "routing.tasks.*": {"queue": "notifications"},
    "evaluation.tasks.*": {"queue": "effects"},
}
CELERY_TASK_ALWAYS_EAGER = False
# Celery's Django fixup closes the database connections only every this many tasks, not around
# every task; portal/celery.py checks them before each task as Django does before a request.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Every periodic job lives here, in one place.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "portal-heartbeat": {
        "task": "portal.tasks.heartbeat",
        "schedule": crontab(minute="*/5"),
    },
    # Effects recomputed weekly, at night when the panel is not being imported.
    "evaluation-weekly-effects": {
        "task": "evaluation.tasks.effects_compute_all",
        "schedule": crontab(day_of_week="sunday", hour=2, minute=30),
    },
    # Offers of an active run that lost their worker or their message: sent again, or failed.
    "evaluation-sweep-stale": {
        "task": "evaluation.tasks.effects_sweep_stale",
        "schedule": crontab(minute="*/10"),
    },
    # The e-mail outbox: hands the broker what is due (never enqueued because Redis was down, a
    # retry whose backoff has passed, a send whose worker died), at most OUTBOX_SWEEP_BATCH a run.
    "crm-notifications-sweep": {
        "task": "crm.tasks.notifications_sweep",
        "schedule": crontab(minute="*"),
    },
    # The reminder ladder and the surveys first, so the hubs' digest at 7:00 shows today's steps.
    "crm-follow-up": {
        "task": "crm.tasks.cases_follow_up",
        "schedule": crontab(hour=6, minute=45),
    },
    "crm-overdue-digest": {
        "task": "crm.tasks.cases_overdue_digest",
        "schedule": crontab(hour=7, minute=0),
    },
    "crm-contacts-retention": {
        "task": "crm.tasks.contacts_retention",
        "schedule": crontab(hour=2, minute=30),
    },
    # Saved-search alerts: the weekly digest on Monday morning, and unconfirmed addresses deleted.
    "governance-weekly-digests": {
        "task": "governance.tasks.send_weekly_digests",
        "schedule": crontab(day_of_week="monday", hour=7, minute=0),
    },
    "governance-expire-saved-searches": {
        "task": "governance.tasks.expire_unconfirmed_saved_searches",
        "schedule": crontab(hour=3, minute=15),
    },
    # Quarterly reports: every morning the job checks whether it is the quarter's first working
    # day; on that day it builds last quarter's reports and e-mails their links (once).
    "governance-quarterly-reports": {
        "task": "governance.tasks.quarterly_reports_send",
        "schedule": crontab(hour=6, minute=30),
    },
    # Fewer but stronger: the catalogue counted on the first of every month.
    "governance-monthly-snapshot": {
        "task": "governance.tasks.snapshot_catalogue",
        "schedule": crontab(day_of_month=1, hour=4, minute=0),
    },
}

# --- The e-mail outbox (crm.outbox) -----------------------------------------------------------

# A message the mail server did not take is tried again after 30 s, 60 s, 120 s … (each up to a
# quarter earlier, so a backlog does not hit a recovering server all at once), never more than
# OUTBOX_RETRY_MAX_SECONDS apart, and marked failed only when a try fails after it has waited
# OUTBOX_GIVE_UP_HOURS. Failed messages can be sent again (manage.py outbox_resend, the admin).
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30, minimum=1)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 3 * 60 * 60, minimum=60)
OUTBOX_GIVE_UP_HOURS = env_int("OUTBOX_GIVE_UP_HOURS", 72, minimum=1)
# At most this many messages handed to the broker per sweep (once a minute).
OUTBOX_SWEEP_BATCH = env_int("OUTBOX_SWEEP_BATCH", 200, minimum=1)
# A send or a hand-over to the broker that has not finished after this long is presumed lost
# (a worker died, a message vanished) and the message is due again.
OUTBOX_STALE_MINUTES = env_int("OUTBOX_STALE_MINUTES", 10, minimum=2)

# --- Domain settings --------------------------------------------------------------------------

# Working days the hub has to give a first response to a new case.
FIRST_RESPONSE_WORKING_DAYS = env_int("FIRST_RESPONSE_WORKING_DAYS", 2, minimum=1)
# The reminder ladder for a case still without a first response (crm.services.followup), in
# Danish working days, each step counted from the one before: the adviser (or, for a case nobody
# has taken, the hub's queue) is nudged this many working days after the first-response date ...
FOLLOWUP_NUDGE_WORKING_DAYS = env_int("FOLLOWUP_NUDGE_WORKING_DAYS", 1, minimum=1)
# ... the hub's lead is alerted this many after the nudge ...
FOLLOWUP_LEAD_WORKING_DAYS = env_int("FOLLOWUP_LEAD_WORKING_DAYS", 2, minimum=1)
# ... the company hears "we have not forgotten you" this many after the lead (0: the same day),
# with a new expected date this many working days ahead ...
FOLLOWUP_COMPANY_WORKING_DAYS = env_int("FOLLOWUP_COMPANY_WORKING_DAYS", 0, minimum=0)
FOLLOWUP_NEW_PROMISE_WORKING_DAYS = env_int("FOLLOWUP_NEW_PROMISE_WORKING_DAYS", 3, minimum=1)
# ... and the case is closed as "not handled" this many after the company was told, which must be
# after the new date the company was given.
FOLLOWUP_CLOSE_WORKING_DAYS = env_int("FOLLOWUP_CLOSE_WORKING_DAYS", 5, minimum=1)
if FOLLOWUP_CLOSE_WORKING_DAYS <= FOLLOWUP_NEW_PROMISE_WORKING_DAYS:
    raise ImproperlyConfigured(
        "FOLLOWUP_CLOSE_WORKING_DAYS must be more than FOLLOWUP_NEW_PROMISE_WORKING_DAYS: "
        "a case may not be closed before the date the company was promised."
    )
# The company's survey: sent this many calendar days after closing (cases closed longer ago than
# SURVEY_AFTER_DAYS + SURVEY_LATEST_DAYS are never surveyed, so a first run does not write to
# years of companies), one reminder SURVEY_REMINDER_DAYS later, and the link valid this long.
SURVEY_AFTER_DAYS = env_int("SURVEY_AFTER_DAYS", 10, minimum=1)
SURVEY_LATEST_DAYS = env_int("SURVEY_LATEST_DAYS", 14, minimum=1)
SURVEY_REMINDER_DAYS = env_int("SURVEY_REMINDER_DAYS", 7, minimum=1)
SURVEY_LINK_DAYS = env_int("SURVEY_LINK_DAYS", 60, minimum=SURVEY_REMINDER_DAYS + 1)
# A referral its operator has not answered (accepted or declined): the operator is reminded this
# many Danish working days after the referral, and the adviser this many after that reminder
# (crm.services.followup, in the same daily job).
REFERRAL_OPERATOR_REMINDER_WORKING_DAYS = env_int(
    "REFERRAL_OPERATOR_REMINDER_WORKING_DAYS", 3, minimum=1
)
REFERRAL_ADVISER_REMINDER_WORKING_DAYS = env_int(
    "REFERRAL_ADVISER_REMINDER_WORKING_DAYS", 2, minimum=1
)
# Fewest referrals an operator and theme must have before the referral report shows their figures
# (governance.referral_report); smaller counts are shown as "fewer than".
REFERRAL_REPORT_MIN_COUNT = env_int("REFERRAL_REPORT_MIN_COUNT", 5, minimum=1)
# Cases the follow-up jobs handle per transaction.
FOLLOWUP_BATCH = env_int("FOLLOWUP_BATCH", 2000, minimum=1)
# An answered case with no activity by a person for this many working days is chased (its
# adviser, or the hub's inbox), and again after as many more while it stays quiet.
FOLLOWUP_STALE_WORKING_DAYS = env_int("FOLLOWUP_STALE_WORKING_DAYS", 10, minimum=1)
# A new guidance request from a company with an open case at the same hub, or one closed at most
# this many calendar days ago, is attached to that case instead of opening a second one.
REPEAT_REQUEST_DAYS = env_int("REPEAT_REQUEST_DAYS", 21, minimum=0)
# Months after closing before a case's contact is anonymised.
CONTACT_RETENTION_MONTHS = env_int("CONTACT_RETENTION_MONTHS", 36, minimum=1)
# Months without review before an offer is flagged as stale.
OFFER_STALE_MONTHS = env_int("OFFER_STALE_MONTHS", 12, minimum=1)
# Partners (partners app): an API key is valid this many months unless made shorter; a rotated
# key keeps working this many hours beside its successor; calls per key (a DRF rate).
PARTNER_API_KEY_MONTHS = env_int("PARTNER_API_KEY_MONTHS", 18, minimum=1)
PARTNER_API_KEY_ROTATION_GRACE_HOURS = env_int(
    "PARTNER_API_KEY_ROTATION_GRACE_HOURS", 7 * 24, minimum=0
)
PARTNER_API_KEY_RATE = env_str("PARTNER_API_KEY_RATE", "1000/hour")
# Counts per source in the routing statistics below this are shown as "under N".
STATISTICS_MIN_COUNT = env_int("STATISTICS_MIN_COUNT", 5, minimum=1)
# Fewest treated companies for which an effect is reported.
EFFECT_MIN_TREATED = env_int("EFFECT_MIN_TREATED", 20, minimum=1)
# An offer of an effect run claimed or handed out this long ago and not finished has lost its
# worker or its message (longer than the task's 30-minute time limit): the sweep sends it again,
# and after EFFECT_MAX_ATTEMPTS claims it fails, so the run ends by itself either way.
EFFECT_STALE_MINUTES = env_int("EFFECT_STALE_MINUTES", 45, minimum=1)
EFFECT_MAX_ATTEMPTS = env_int("EFFECT_MAX_ATTEMPTS", 8, minimum=1)
# Quarterly reports (governance.quarterly): counts below this are withheld, and the organisation
# whose users receive the national (ministry) report.
REPORT_MIN_COUNT = env_int("REPORT_MIN_COUNT", 5, minimum=3)
QUARTERLY_REPORT_MINISTRY = env_str("QUARTERLY_REPORT_MINISTRY", "erhvervsstyrelsen")
# What the portal calls a regional business hub in general (offers/hub_terms.py): the Danish noun
# as singular, definite, plural and definite plural. Each hub's own name is its organisation's.
HUB_TERM = env_list("HUB_TERM", ["Væksthus", "Væksthuset", "Væksthuse", "Væksthusene"])
if len(HUB_TERM) != 4 or not all(HUB_TERM):
    raise ImproperlyConfigured(
        "HUB_TERM must be four comma-separated forms, e.g. "
        "Erhvervshus,Erhvervshuset,Erhvervshuse,Erhvervshusene."
    )
# Where the guidance form looks a CVR number up (crm/cvr_register.py): a class with a
# lookup(cvr) method. The default reads the local copy of the register's open data that
# `manage.py import_cvr_register` loads; checked at start-up (crm/checks.py).
CVR_LOOKUP_PROVIDER = env_str("CVR_LOOKUP_PROVIDER", "crm.cvr_register.LocalRegisterProvider")
# De minimis: EUR 300,000 per undertaking over any three years (Regulation (EU) 2023/2831,
# Article 3(2)), converted at a fixed rate (crm/state_aid.py).
DE_MINIMIS_CEILING_EUR = env_int("DE_MINIMIS_CEILING_EUR", 300_000, minimum=1)
DE_MINIMIS_DKK_PER_EUR = env_decimal("DE_MINIMIS_DKK_PER_EUR", "7.46", minimum="0.01")

# --- API --------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Session only: nothing uses HTTP Basic, and it put passwords on every API call and user
    # names from any client into the lockout table.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Erhvervsfremmeportalen API",
    "DESCRIPTION": "Offers, guidance requests and effect measurements from Danish public "
    "business support.\n\n" + (BASE_DIR / "docs" / "partner-api.md").read_text(encoding="utf-8"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files: no CDN, and the strict CSP holds.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Stable enum names where several fields share, or reuse the name of, a choice set.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "offers.models.Level",
        "OfferStatusEnum": "offers.models.Offer.Status",
        "EffectStatusEnum": ["ok", "too_few", "no_data"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # 400/401/403/404/429/503 as every operation can answer them (portal/openapi.py).
        "portal.openapi.add_error_responses",
    ],
}

# --- Logging: no personal data ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Status and saved-search links carry private tokens in their paths, and request logs print
    # paths: the filter masks them on every handler, and on the loggers that print paths (so the
    # record is masked before any handler, a test's included, sees it).
    "filters": {"private_paths": {"()": "routing.logfilters.PrivatePathFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["private_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR", "filters": ["private_paths"]},
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["private_paths"],
        },
        "django.security": {"filters": ["private_paths"]},
        "axes": {"level": "WARNING"},
    },
}
