"""Settings shared by every environment.

One ``env`` object reads the environment; each environment module (local, test,
production) only changes what differs. Production refuses to start without its
required variables (see production.py).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))  # local data: SQLite, broker, mail
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_forms_gds",
    "simple_history",
    "axes",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "csp",
    "core",
    "referrals",
    "reviews",
    "guidance",
    "scrutiny",
    "modelguidance",
    "records",
    "contexts",
]

MIDDLEWARE = [
    # First, so every response (errors included) gets a request id and one JSON log line.
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.SessionLifetimeMiddleware",  # after messages: it says why it signed out
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.service",
                "core.context_processors.notifications",
                "contexts.context_processors.navigation",
            ],
            # {% url %} that reverses a name without arguments once (core/templatetags/remembered_urls.py)
            "builtins": ["core.templatetags.remembered_urls"],
        },
    },
]

# Database: SQLite file under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mash.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has two writers, the web process and the Celery worker. A transaction
    # takes SQLite's write lock when it begins (IMMEDIATE), so a second writer waits for it (up
    # to the timeout) instead of failing at once with "database is locked" when a transaction
    # that has read goes on to write, which SQLite cannot wait out (a job claim, for one).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
#: How long an e-mailed link to set a password works (core.passwords): three days.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 60 * 60

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-guardian: grants are checked only through core/permissions.py, which honours expiry;
# guardian's backend would not, so it is not installed and its warning is silenced.
ANONYMOUS_USER_NAME = None
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]

# Two-factor sign-in (django-otp, TOTP). Exempt data needs a verified session.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="MASH referrals")
# Wrong codes: 1, 2, 4, 8 ... seconds between tries, never more than 15 minutes (django-otp's own
# cap is 100 years: a lock-out for good; core.two_factor.throttle_cap applies this one).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_THROTTLE_MAX_SECONDS = env.int("OTP_THROTTLE_MAX_SECONDS", default=15 * 60)
# The admin never shows an authenticator's key or a recovery code (core/admin.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
#: How long a break-glass grant lasts.
BREAK_GLASS_HOURS = env.int("BREAK_GLASS_HOURS", default=4)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: 30 minutes idle (every request renews the clock), and signed out 12 hours after
# signing in however active (core.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = 30 * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token in a hidden field
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# Content Security Policy (django-csp 4): nothing inline, nothing from elsewhere. Scripts and
# styles are files under /static/ (static/js/init.js is GOV.UK Frontend's js-enabled switch);
# the favicon is a data: URL. No 'unsafe-inline', no nonces: no page needs one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
        "manifest-src": [SELF],
    },
}

# django-axes: lock an account and address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# The client's address (core.client_address.client_ip), for axes, the access log and security
# events alike: behind N proxies that each append to X-Forwarded-For (a TLS proxy in front of
# gunicorn is 1), set TRUSTED_PROXY_COUNT=N. 0 ignores the header: the connection only.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_ip"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# The MASH's opening hours: RAG response targets count only these (core.timescales). Days are
# Monday=0 .. Sunday=6; bank holidays in England are always shut.
MASH_OPENING_HOURS = {
    "opens": env.str("MASH_OPENS", default="09:00"),
    "closes": env.str("MASH_CLOSES", default="17:00"),
    "days": env.list("MASH_OPEN_DAYS", cast=int, default=[0, 1, 2, 3, 4]),
}

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
]
# Files (PDF packs, uploaded appendices) go through Django's storage API: local disk under
# MEDIA_ROOT by default, S3-compatible object storage (django-storages) when a bucket is set.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mash-noreply@council.example")
# Information governance's team mailbox: told of every security event information governance
# hears of, beside the role's holders, so removing or disabling them cannot silence it.
SECURITY_ALERTS_EMAIL = env.str("SECURITY_ALERTS_EMAIL", default="")

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/
# so a real worker runs with no server to install.
#
# Reliability: a task is acknowledged only when it has finished (acks_late) and is put back
# if its worker process dies (reject_on_worker_lost); each worker takes one task at a time.
# On Redis an unacknowledged task is handed out again after the visibility timeout, so every
# task's hard time limit must end before it (core.checks refuses to start otherwise).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery-broker")))
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT - 60)


def redis_transport_options(visibility_timeout: int) -> dict:
    """Broker options for Redis: the visibility timeout, and short socket timeouts so a page
    that queues a job answers quickly ("Exports are unavailable") when Redis is down."""
    return {
        "visibility_timeout": visibility_timeout,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "retry_on_timeout": True,
    }


if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = redis_transport_options(CELERY_VISIBILITY_TIMEOUT)
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("out", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# The worker logs through the same JSON handler and exempt-data filter as the web processes
# (Celery would otherwise replace the root logger's handlers with its own plain formatter).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker child that has grown past this (KiB) is replaced after its task (prefork pool).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=400_000)
# Publishing a task when the broker is down: fail within a second or two, do not hang.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TIMEZONE = TIME_ZONE
# Three queues, so a cabinet pack never waits behind a morning's e-mails: `packs` (PDF
# rendering), `notifications` (every e-mail and notification) and `default` (housekeeping,
# disposal, everything else). docker-compose runs a worker for packs and one for the other two;
# `make run` runs one worker on all three.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "core.tasks.render_export_job": {"queue": "packs"},
    "modelguidance.tasks.render_published_pdf": {"queue": "packs"},
    "*.send_*": {"queue": "notifications"},
    "*.notify_*": {"queue": "notifications"},
    "*digest*": {"queue": "notifications"},
}
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "core.tasks.clear_expired_sessions",
        "schedule": 6 * 60 * 60,
    },
    "flush-outbox": {
        "task": "core.tasks.flush_outbox",
        "schedule": 60,
    },
    "delete-expired-grants": {
        "task": "referrals.tasks.delete_expired_grants",
        "schedule": 60 * 60,
    },
}

# Case-review figures: counts from 1 to this are suppressed wherever the viewer may not see
# every case behind them, and always in what is marked for publication (REFERENCE.md 7).
REVIEW_SUPPRESSION_THRESHOLD = env.int("REVIEW_SUPPRESSION_THRESHOLD", default=5)
# Contextual safeguarding's public-safe figures (contexts.selectors.figures_public).
CONTEXT_SUPPRESSION_THRESHOLD = env.int("CONTEXT_SUPPRESSION_THRESHOLD", default=REVIEW_SUPPRESSION_THRESHOLD)

# Scrutiny: the largest PDF appendix accepted (bytes), and how near its due date an action
# with too little progress turns amber (days; local practice, so configuration).
SCRUTINY_APPENDIX_MAX_BYTES = env.int("SCRUTINY_APPENDIX_MAX_BYTES", default=20 * 1024 * 1024)
# ...and what it may hold (core.documents.pdf_check): pages, objects, and how far its streams
# may expand when opened (a small file can inflate to gigabytes and break every export).
SCRUTINY_APPENDIX_MAX_PAGES = env.int("SCRUTINY_APPENDIX_MAX_PAGES", default=500)
SCRUTINY_APPENDIX_MAX_OBJECTS = env.int("SCRUTINY_APPENDIX_MAX_OBJECTS", default=100_000)
SCRUTINY_APPENDIX_MAX_EXPANDED_BYTES = env.int("SCRUTINY_APPENDIX_MAX_EXPANDED_MB", default=256) * 1024 * 1024
SCRUTINY_AMBER_DAYS = env.int("SCRUTINY_AMBER_DAYS", default=28)
SCRUTINY_AMBER_BELOW_PERCENT = env.int("SCRUTINY_AMBER_BELOW_PERCENT", default=75)

# The council running the service (header, e-mails). Not a GOV.UK service: no crown.
SERVICE_NAME = "MASH referrals"
#: The name the council's public pages (model guidance, definitions, acknowledgements) carry.
PUBLIC_SERVICE_NAME = "Safeguarding guidance for schools"
COUNCIL_NAME = env.str("COUNCIL_NAME", default="Exampleshire Council")
# The address e-mailed links start with (acknowledgement links go to schools outside the council).
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# How long a school's link to acknowledge the model guidance works.
GUIDANCE_ACKNOWLEDGEMENT_DAYS = env.int("GUIDANCE_ACKNOWLEDGEMENT_DAYS", default=28)


def webauthn_relying_party(site_url: str) -> tuple[str, list[str]]:
    """Security keys (django-otp-webauthn): the relying party id (the site's host name) and
    the one origin a key's signature may name (the site's scheme, host and port)."""
    parts = urlsplit(site_url)
    return parts.hostname or "", [f"{parts.scheme}://{parts.netloc}"]


# Security keys (WebAuthn) are a second factor beside the authenticator app, never a way to
# sign in without a password (core/security_keys.py, docs/adr/0015-security-keys.md).
OTP_WEBAUTHN_RP_NAME = SERVICE_NAME
OTP_WEBAUTHN_RP_ID, OTP_WEBAUTHN_ALLOWED_ORIGINS = webauthn_relying_party(SITE_URL)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "core.security_keys.SecurityKeyHelper"

# Logs: one JSON object a line on standard error (request id, user id, path, status,
# duration), every record passed through core.logs.ExemptDataFilter first: exempt values
# seen in the request or task are masked, query strings, SQL and exception messages dropped.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # "plain" for people reading a terminal
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "core.logs.RequestContextFilter"},
        "exempt": {"()": "core.logs.ExemptDataFilter"},
    },
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "exempt"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own configuration (DEFAULT_LOGGING) gives "django" and "django.server"
        # handlers of their own, which print unfiltered, and "django.server" no propagation:
        # with its handler removed, its records reached logging's last-resort handler and
        # printed runserver's request line, query string and all. Every Django logger writes
        # through the one filtered console handler instead (tests/security/test_log_scrub.py).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Django's request logger would print request bodies in some errors; keep it at warning.
        "django.request": {"level": "WARNING"},
        # runserver's own access line repeats the query string; mash.request replaces it, and
        # the 4xx and 5xx lines it still writes go through the filter (query strings removed).
        "django.server": {"level": "WARNING", "handlers": ["console"], "propagate": False},
        "axes": {"level": "WARNING"},
        # WeasyPrint's step-by-step progress (core.documents reads it while rendering).
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# Health (/healthz/): the worker is stale when the heartbeat Celery beat sends every minute
# has not been written for this long.
WORKER_HEARTBEAT_SECONDS = 60
WORKER_STALE_SECONDS = env.int("WORKER_STALE_SECONDS", default=180)
CELERY_BEAT_SCHEDULE["worker-heartbeat"] = {
    "task": "core.tasks.worker_heartbeat",
    "schedule": WORKER_HEARTBEAT_SECONDS,
    "options": {"expires": WORKER_HEARTBEAT_SECONDS},
}

# A new referral saved as a draft is deleted this many days after it was last saved.
REFERRAL_DRAFT_DAYS = env.int("REFERRAL_DRAFT_DAYS", default=14)
CELERY_BEAT_SCHEDULE["delete-expired-referral-drafts"] = {
    "task": "referrals.tasks.delete_expired_drafts",
    "schedule": 60 * 60,
}

# Importing historic referrals (referrals/imports): the largest file and the most rows
# accepted, and how long a checked file waits to be imported before it is deleted.
REFERRAL_IMPORT_MAX_BYTES = env.int("REFERRAL_IMPORT_MAX_MB", default=20) * 1024 * 1024
REFERRAL_IMPORT_MAX_ROWS = env.int("REFERRAL_IMPORT_MAX_ROWS", default=25_000)
REFERRAL_IMPORT_KEEP_HOURS = env.int("REFERRAL_IMPORT_KEEP_HOURS", default=24)
CELERY_BEAT_SCHEDULE["discard-stale-imports"] = {
    "task": "referrals.tasks.discard_stale_imports",
    "schedule": 60 * 60,
}

# PDF packs (core.documents): finished packs are kept this many days, then their files are
# removed by the clean-up task (Celery beat); the job and its trail stay.
EXPORT_PACKS_KEEP_DAYS = env.int("EXPORT_PACKS_KEEP_DAYS", default=30)
# An export job no worker has taken this long after it was published (seconds) is published
# again by Celery beat: its message may have been lost with the broker's data.
EXPORT_REQUEUE_AFTER = env.int("EXPORT_REQUEUE_AFTER", default=10 * 60)
CELERY_BEAT_SCHEDULE["requeue-export-jobs"] = {
    "task": "core.tasks.requeue_export_jobs",
    "schedule": 60,
}
CELERY_BEAT_SCHEDULE["clean-up-export-packs"] = {
    "task": "core.tasks.clean_up_export_packs",
    "schedule": 60 * 60,
}

# Records lifecycle (records/, core.retention). The retention schedule: one rule per record type
# and outcome ("*": any outcome; a referral with several outcomes is kept under the rule that
# keeps it longest), counted from a trigger (youngest_child_dob, last_activity, closure), each
# with its source. These defaults are one council's (docs/operations.md, Retention): set
# RETENTION_SCHEDULE_FILE to a JSON list of the same shape to use your own schedule.
RETENTION_SCHEDULE = [
    {
        "record_type": "referral",
        "outcome": "*",
        "trigger": "youngest_child_dob",
        "years": 25,
        "source": (
            "Council retention schedule, following the IRMS Information Management Toolkit for "
            "Schools: child protection files are kept to the youngest child's date of birth + 25 "
            "years, then reviewed"
        ),
    },
    {
        "record_type": "referral",
        "outcome": "nfa",
        "trigger": "closure",
        "years": 6,
        "source": "Council retention schedule: contacts that led to no further action, closure + 6 years",
    },
    {
        "record_type": "referral",
        "outcome": "advice",
        "trigger": "closure",
        "years": 6,
        "source": "Council retention schedule: information, advice or signposting, closure + 6 years",
    },
]
if _retention_file := env.str("RETENTION_SCHEDULE_FILE", default=""):
    import json as _json

    with open(_retention_file, encoding="utf-8") as _handle:
        RETENTION_SCHEDULE = _json.load(_handle)
# The disposal register (records.services): one JSON line per record disposed of, references only.
# Keep it OUTSIDE the database and the media folder, on storage with its own copies, so that a
# restore of a backup older than a disposal can re-apply it (manage.py reapply_disposals).
DISPOSAL_REGISTER_PATH = env.str("DISPOSAL_REGISTER_PATH", default=str(VAR_DIR / "disposal-register.jsonl"))
# Records past their period are listed for the disposal review once a day.
CELERY_BEAT_SCHEDULE["list-for-disposal-review"] = {
    "task": "records.tasks.list_for_disposal_review",
    "schedule": 24 * 60 * 60,
}
# Notifications (core.notifications): users who chose the daily digest get it at this hour.
NOTIFICATION_DIGEST_HOUR = env.int("NOTIFICATION_DIGEST_HOUR", default=17)
CELERY_BEAT_SCHEDULE["notification-digests"] = {
    "task": "core.tasks.queue_notification_digests",
    "schedule": crontab(minute=0, hour=NOTIFICATION_DIGEST_HOUR),
}
# Referrals past their decision due time undecided notify their practitioner and the managers.
CELERY_BEAT_SCHEDULE["notify-overdue-referrals"] = {
    "task": "referrals.tasks.notify_overdue",
    "schedule": 5 * 60,
    "options": {"expires": 5 * 60},
}
# Contextual safeguarding: every pattern rule over the whole record, nightly (contexts.tasks);
# a saved referral is checked at once through the outbox, this catches rule changes.
CELERY_BEAT_SCHEDULE["contexts-nightly-run"] = {
    "task": "contexts.tasks.check_all",
    "schedule": crontab(minute=30, hour=2),
}
