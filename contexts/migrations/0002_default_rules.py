"""The four kinds of pattern rule, with the issue's defaults (a manager changes them later)."""

from django.db import migrations

DEFAULTS = [
    # kind, threshold, window in months, sexual abuse only
    ("school_referrals", 3, 12, True),  # 3 or more peer-on-peer sexual-abuse referrals in 12 months
    ("same_school", 1, 12, True),  # any referral whose victim and alleged perpetrator share a school
    ("child", 2, 24, False),  # alleged perpetrator twice, or victim in one and alleged perpetrator in another
    ("place", 3, 12, False),  # several referrals naming the same place
    ("group", 2, 24, False),  # the same group of children in more than one referral
]


def seed(apps, schema_editor):
    PatternRule = apps.get_model("contexts", "PatternRule")
    for kind, threshold, months, sexual in DEFAULTS:
        PatternRule.objects.get_or_create(
            kind=kind, defaults={"threshold": threshold, "window_months": months, "sexual_only": sexual}
        )


class Migration(migrations.Migration):
    dependencies = [("contexts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
