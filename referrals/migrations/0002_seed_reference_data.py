"""Reference data from the domain reference (REFERENCE.md sections 4 and 5).

Administrators can correct any of it in the admin; this migration only adds what is
missing, so it never overwrites a correction.
"""

from django.db import migrations

SOURCES = [
    ("school", "School"),
    ("police", "Police"),
    ("health", "Health"),
    ("parent-carer", "Parent or carer"),
    ("child", "The child"),
    ("other-la", "Other local authority"),
    ("voluntary", "Voluntary sector"),
    ("anonymous", "Anonymous"),
]

# (code, name, first named in, sexual)
FORMS_OF_ABUSE = [
    ("bullying", "Bullying, including cyberbullying", "KCSIE 2016", False),
    ("prejudice-bullying", "Prejudice-based and discriminatory bullying", "KCSIE 2021", False),
    ("physical", "Physical abuse", "KCSIE 2018", False),
    ("rape", "Rape", "SVSH 2017", True),
    ("assault-by-penetration", "Assault by penetration", "SVSH 2017", True),
    ("sexual-assault", "Sexual assault", "SVSH 2017", True),
    ("sexual-harassment", "Sexual harassment", "SVSH 2017", True),
    ("upskirting", "Upskirting", "KCSIE 2019", True),
    ("sexting", "Sexting (youth-produced sexual imagery)", "KCSIE 2016", True),
    ("nudes", "Sharing nudes and semi-nudes", "KCSIE 2021", True),
    ("initiation-hazing", "Initiation or hazing", "KCSIE 2018", False),
    ("intimate-relationship", "Abuse in intimate personal relationships between peers", "KCSIE 2021", False),
    ("sexual-activity-without-consent", "Causing someone to engage in sexual activity without consent", "KCSIE 2021", True),
]

OUTCOMES = [
    ("nfa", "No further action"),
    ("advice", "Information, advice or signposting"),
    ("early-help", "Early help"),
    ("s17", "Section 17 (child in need) assessment"),
    ("strategy-s47", "Strategy discussion leading to section 47 enquiries"),
    ("police", "Police referral or joint investigation"),
    ("immediate-protection", "Immediate protection"),
]

# Local practice, not statute (one council's defaults): response targets in working hours.
RAG_LEVELS = [("red", "Red", 2), ("amber", "Amber", 6), ("green", "Green", 24)]


def seed(apps, schema_editor):
    ReferralSource = apps.get_model("referrals", "ReferralSource")
    AbuseForm = apps.get_model("referrals", "AbuseForm")
    Outcome = apps.get_model("referrals", "Outcome")
    RagLevel = apps.get_model("referrals", "RagLevel")
    for order, (code, name) in enumerate(SOURCES):
        ReferralSource.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for order, (code, name, first, sexual) in enumerate(FORMS_OF_ABUSE):
        AbuseForm.objects.get_or_create(
            code=code,
            defaults={"name": name, "order": order, "first_named_in": first, "is_sexual": sexual},
        )
    for order, (code, name) in enumerate(OUTCOMES):
        Outcome.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for order, (code, name, hours) in enumerate(RAG_LEVELS):
        RagLevel.objects.get_or_create(
            code=code, defaults={"name": name, "order": order, "response_hours": hours}
        )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
