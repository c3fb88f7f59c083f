"""Test settings: DATABASE_URL and REDIS_URL come from the environment (CI sets them)."""

from .base import *  # noqa: F403
from .base import CELERY_BROKER_TRANSPORT_OPTIONS, REDIS_URL, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# pytest-xdist (`make test`): each worker has its own test database (pytest-django adds the
# worker's name to it) and its own keys on the broker, so no worker reads another's messages.
XDIST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")
if XDIST_WORKER and REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"{XDIST_WORKER}:",
    }
CELERY_TASK_EAGER_PROPAGATES = True
AXES_FAILURE_LIMIT = 5
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# A file for the SQLite test database (not memory), so a real Celery worker started by a
# test can read what the test wrote.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# django-zeal: any N+1 query pattern raises in tests (tests/conftest.py turns it on for every
# test; the middleware gives each request its own count, as production requests would have).
# It goes first, so the user and session the other middleware load count to the request too.
INSTALLED_APPS = [*INSTALLED_APPS, "zeal", "devtools"]  # devtools: local and test settings only
MIDDLEWARE = ["zeal.middleware.zeal_middleware", *MIDDLEWARE]
ZEAL_RAISE = env.bool("ZEAL_RAISE", default=True)
ZEAL_SHOW_ALL_CALLERS = False
ZEAL_ALLOWLIST = [
    # Django's own session handling loads the session row again to delete it on sign-out.
    {"model": "sessions.Session", "field": "get()"},
    # Each child on the referral form has a school drop-down; Django's ModelChoiceField looks
    # the chosen school up once per child form. Bounded by the children typed into one form
    # (not by the data), and changing it would mean replacing Django's field.
    {"model": "referrals.School", "field": "get()"},
    # Saving and submitting an assessment in one request are two services, each locking the
    # row in its own transaction: twice per request, never per row.
    {"model": "reviews.CaseAssessment", "field": "get()"},
    # An import takes reference numbers one locked sequence row per year in the file (in year
    # order, so two imports cannot deadlock) and again for numbers that clash: per year.
    {"model": "referrals.ReferenceSequence", "field": "get()"},
]
