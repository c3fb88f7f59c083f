import django.db.models.deletion
from django.db import migrations, models


def populate(apps, schema_editor):
    """The index from the referrals already held (as ``contexts.school_index.rebuild``, written
    out here so the migration does not change when that module does)."""
    index = apps.get_model("contexts", "SchoolReferral")._meta.db_table
    links = apps.get_model("referrals", "ReferralChild")._meta.db_table
    children = apps.get_model("referrals", "Child")._meta.db_table
    referrals = apps.get_model("referrals", "Referral")._meta.db_table
    victim, alleged = "victim", "alleged_perpetrator"
    schema_editor.execute(
        f"INSERT INTO {index} (school_id, referral_id, received_at, same_school) "  # noqa: S608
        "SELECT c.school_id, rc.referral_id, r.received_at, "
        "(SUM(CASE WHEN rc.role = %s THEN 1 ELSE 0 END) > 0 AND SUM(CASE WHEN rc.role = %s THEN 1 ELSE 0 END) > 0) "
        f"FROM {links} rc JOIN {children} c ON c.id = rc.child_id JOIN {referrals} r ON r.id = rc.referral_id "
        "WHERE rc.role IN (%s, %s) AND c.school_id IS NOT NULL AND r.disposed_at IS NULL "
        "GROUP BY c.school_id, rc.referral_id, r.received_at",
        [victim, alleged, victim, alleged],
    )


class Migration(migrations.Migration):

    dependencies = [
        ('contexts', '0005_place_key_erased_on_disposal'),
        ('referrals', '0017_incident_place'),
    ]

    operations = [
        migrations.CreateModel(
            name='SchoolReferral',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_at', models.DateTimeField()),
                ('same_school', models.BooleanField()),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='referrals.referral')),
                ('school', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='referrals.school')),
            ],
            options={
                'indexes': [models.Index(fields=['school', 'received_at', 'referral'], name='school_referral_window_idx')],
            },
        ),
        migrations.RunPython(populate, migrations.RunPython.noop, elidable=True),
    ]
