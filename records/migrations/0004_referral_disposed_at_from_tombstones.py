"""Referrals disposed of before ``Referral.disposed_at`` existed are marked from their tombstones
(only the column: no history row is written, as none of the disposal's others are kept)."""

from django.db import migrations


def mark_disposed(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Tombstone = apps.get_model("records", "Tombstone")
    for record_id, disposed_at in Tombstone.objects.filter(record_type="referral").values_list(
        "record_id", "disposed_at"
    ):
        Referral.objects.filter(pk=record_id, disposed_at__isnull=True).update(disposed_at=disposed_at)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0003_hold_lift_second_officer"),
        ("referrals", "0015_referral_disposed_at"),
    ]

    operations = [migrations.RunPython(mark_disposed, migrations.RunPython.noop)]
