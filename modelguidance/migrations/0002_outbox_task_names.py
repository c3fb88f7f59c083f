"""Outbox rows not yet sent name their task by module path; the model guidance tasks moved from
``guidance.tasks`` to ``modelguidance.tasks``, so rename the unsent rows (nothing is lost)."""

from django.db import migrations
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

OLD, NEW = "guidance.tasks.", "modelguidance.tasks."


def forwards(apps, schema_editor):
    apps.get_model("core", "OutboxMessage").objects.filter(task__startswith=OLD, sent_at__isnull=True).update(
        task=Concat(Value(NEW), Substr(F("task"), len(OLD) + 1))
    )


def backwards(apps, schema_editor):
    apps.get_model("core", "OutboxMessage").objects.filter(task__startswith=NEW, sent_at__isnull=True).update(
        task=Concat(Value(OLD), Substr(F("task"), len(NEW) + 1))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("modelguidance", "0001_model_guidance_moved_from_guidance"),
        ("core", "0011_role_requests_and_account_events"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
