"""What a MASH decision does to meet criterion 6 (REFERENCE.md section 3 and "MASH decision
oversight"): rape, assault by penetration or sexual assault - a report to the police as the
starting point. Met by a police referral or joint investigation, a strategy discussion, or
the police informed.

The 2021 edition of the sexual violence and sexual harassment advice, still the current one,
keeps the same starting point; it had no criteria in the library, so its criterion 6 is added
here (wording as the earlier editions; the exact 2021 wording is not verified).
"""

import datetime as dt

from django.db import migrations

TEXT = (
    "Rape, assault by penetration or sexual assault: a report to the police as the starting point, in "
    "parallel with a referral to children's social care."
)
SEXUAL_VIOLENCE = ["rape", "assault-by-penetration", "sexual-assault"]


def seed(apps, schema_editor):
    Document = apps.get_model("guidance", "GuidanceDocument")
    Criterion = apps.get_model("guidance", "Criterion")
    Outcome = apps.get_model("referrals", "Outcome")
    AbuseForm = apps.get_model("referrals", "AbuseForm")
    svsh_2021 = Document.objects.filter(series="svsh", in_force_from=dt.date(2021, 9, 1)).first()
    if svsh_2021 is not None:
        criterion, created = Criterion.objects.get_or_create(
            document=svsh_2021, code="SV21.6", defaults={"text": TEXT, "mandatory": True, "order": 5}
        )
        if created:
            criterion.forms_of_abuse.set(AbuseForm.objects.filter(code__in=SEXUAL_VIOLENCE))
    outcomes = list(Outcome.objects.filter(code__in=["police", "strategy-s47"]))
    for criterion in Criterion.objects.filter(code__endswith=".6", text__startswith="Rape, assault by penetration"):
        if not criterion.met_by_advice:
            criterion.met_by_advice = "police_informed"
            criterion.save(update_fields=["met_by_advice"])
        criterion.met_by_outcomes.add(*outcomes)


class Migration(migrations.Migration):
    dependencies = [("guidance", "0005_criterion_met_by_decision"), ("referrals", "0009_seed_decision_authorisation_rule")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
