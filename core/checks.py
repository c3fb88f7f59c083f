"""System checks for settings that must agree with each other."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def celery_time_limits(app_configs, **kwargs):
    """A task still running when the broker's visibility timeout ends is handed to a second
    worker; every hard time limit must end first (and the soft one before the hard one)."""
    errors = []
    hard = settings.CELERY_TASK_TIME_LIMIT
    soft = settings.CELERY_TASK_SOFT_TIME_LIMIT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is not None and hard >= visibility:
        errors.append(
            Error(
                f"CELERY_TASK_TIME_LIMIT ({hard} s) must be below the broker's visibility timeout "
                f"({visibility} s), or a long task is run twice.",
                id="core.E001",
            )
        )
    if soft >= hard:
        errors.append(
            Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft} s) must be below CELERY_TASK_TIME_LIMIT ({hard} s).",
                id="core.E002",
            )
        )
    return errors
