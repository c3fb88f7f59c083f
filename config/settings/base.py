"""Settings shared by every environment.

One ``env`` object reads the environment; each environment module (local, test,
production) only changes what differs. Production refuses to start without its
required variables (see production.py).
"""

import os
from pathlib import Path

import environ

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
    "core",
    "referrals",
    "reviews",
    "guidance",
    "scrutiny",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
            ],
        },
    },
]

# Database: SQLite file under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mash.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
# django-guardian: grants are checked only through core/permissions.py, which honours expiry;
# guardian's backend would not, so it is not installed and its warning is silenced.
ANONYMOUS_USER_NAME = None
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]

# Two-factor sign-in (django-otp, TOTP). Exempt data needs a verified session.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="MASH referrals")
#: How long a break-glass grant lasts.
BREAK_GLASS_HOURS = env.int("BREAK_GLASS_HOURS", default=4)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: 30 minutes idle; every request renews the clock.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# django-axes: lock an account and address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
]
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

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/
# so a real worker runs with no server to install.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery-broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
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
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 400_000  # KiB
CELERY_TIMEZONE = TIME_ZONE
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

# The council running the service (header, e-mails). Not a GOV.UK service: no crown.
SERVICE_NAME = "MASH referrals"
COUNCIL_NAME = env.str("COUNCIL_NAME", default="Exampleshire Council")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's request logger would print request bodies in some errors; keep it at warning.
        "django.request": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
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
