"""Fault tests reuse the Celery worker test's fixtures: a real worker and a broker switch."""

from tests.test_celery_worker import publish_to, worker  # noqa: F401 - fixtures
