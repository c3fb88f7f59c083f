"""The product's roles as groups (see core/roles.py)."""

from django.db import migrations

ROLE_NAMES = [
    "MASH practitioner",
    "MASH manager",
    "Reviewer",
    "Lead reviewer",
    "Report officer",
    "Information governance",
    "Administrator",
]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
