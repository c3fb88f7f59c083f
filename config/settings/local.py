"""Local development: the embedded defaults (SQLite, filesystem Celery broker)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="local-development-only-not-secret")
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Development tooling (demo data, benchmarks, load-test preparation): local and test only,
# never in production (it is not in the production image either: .dockerignore).
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
