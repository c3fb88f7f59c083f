"""The DfE guidance in force 2016-2025 and what a reviewer checks (REFERENCE.md sections 2-3).

Days marked unverified in the reference are seeded with date_verified=False, so the
timeline says so and an administrator can correct them. Adds only what is missing.
"""

import datetime as dt

from django.db import migrations

D = dt.date
# (series, edition, title, in force from, verified day?, summary)
DOCUMENTS = [
    ("kcsie", "2016", "Keeping Children Safe in Education 2016", D(2016, 9, 5), True,
     "Peer-on-peer abuse: bullying including cyberbullying, gender-based violence and sexual assaults, sexting. "
     "The school's policy must say how allegations are investigated and dealt with."),
    ("ukccis", "2016", "UKCCIS: Sexting in schools and colleges", D(2016, 8, 1), False,
     "Handling youth-produced sexual imagery: disclosure, devices, risk assessment, escalation, recording, parents."),
    ("svsh", "2017", "Sexual violence and sexual harassment between children in schools and colleges", D(2017, 12, 14),
     True, "The four response options; risk assessment; separation of the children."),
    ("svsh", "May 2018", "Sexual violence and sexual harassment between children in schools and colleges (revised)",
     D(2018, 5, 1), False, "Revised advice, May 2018."),
    ("working_together", "2018", "Working Together to Safeguard Children 2018", D(2018, 7, 1), False,
     "Local authority decision on a referral within one working day; feedback to the referrer."),
    ("kcsie", "2018", "Keeping Children Safe in Education 2018", D(2018, 9, 3), True,
     "New Part five on child-on-child sexual violence and sexual harassment; Annex A lists forms of peer abuse."),
    ("legislation", "2019", "Voyeurism (Offences) Act 2019", D(2019, 4, 12), True, "Upskirting becomes an offence."),
    ("kcsie", "2019", "Keeping Children Safe in Education 2019", D(2019, 9, 2), True, "Adds upskirting."),
    ("kcsie", "2020", "Keeping Children Safe in Education 2020", D(2020, 9, 1), False, ""),
    ("kcsie", "2021", "Keeping Children Safe in Education 2021", D(2021, 9, 1), True,
     "Expanded list of forms of abuse; nudes and semi-nudes; abuse in intimate personal relationships."),
    ("svsh", "2021", "Sexual violence and sexual harassment between children in schools and colleges 2021",
     D(2021, 9, 1), True, ""),
    ("kcsie", "2022", "Keeping Children Safe in Education 2022", D(2022, 9, 1), False,
     "'Peer on peer' renamed 'child on child'."),
    ("working_together", "2023", "Working Together to Safeguard Children 2023", D(2023, 12, 15), True, ""),
    ("kcsie", "2023", "Keeping Children Safe in Education 2023", D(2023, 9, 1), False, ""),
    ("kcsie", "2024", "Keeping Children Safe in Education 2024", D(2024, 9, 1), False, ""),
    ("kcsie", "2025", "Keeping Children Safe in Education 2025", D(2025, 9, 1), False, ""),
]

SEXUAL_VIOLENCE = ["rape", "assault-by-penetration", "sexual-assault"]
# What a reviewer checks (REFERENCE.md section 3): (code suffix, text, must?, forms)
RESPONSE_SET = [
    ("1", "Report taken seriously; no confidentiality promised; facts recorded, not opinion.", True, []),
    ("2", "Designated safeguarding lead informed and leading.", True, []),
    ("3", "Initial considerations recorded: the victim's wishes; nature of the incident; ages and developmental "
     "stages; power imbalance; one-off or pattern; intimate relationship; ongoing risks; links to exploitation.",
     False, []),
    ("4", "Risk and needs assessment (immediately for sexual violence) covering the victim, the alleged "
     "perpetrator and other children; recorded and kept under review.", True, []),
    ("5", "One of the four responses chosen and recorded (manage internally, early help, children's social care, "
     "police), with reasons.", True, []),
    ("6", "Rape, assault by penetration or sexual assault: a report to the police as the starting point, in "
     "parallel with a referral to children's social care.", True, SEXUAL_VIOLENCE),
    ("7", "Separation during a criminal investigation: the alleged perpetrator out of shared classes and kept a "
     "reasonable distance on site and on transport, without judging guilt.", False, SEXUAL_VIOLENCE),
    ("8", "Support for both children, the victim's wishes and needs paramount.", True, []),
    ("9", "Parents of both children engaged for sexual violence unless that raises the risk.", False,
     SEXUAL_VIOLENCE),
    ("10", "Anonymity protected; nothing dismissed as banter.", False, []),
]
SEXTING_SET = [
    ("1", "UKCCIS steps followed: disclosure, device handling, risk assessment, escalation, recording, parents.",
     False, ["sexting", "nudes"]),
]
KCSIE_2016_SET = [
    ("1", "Report taken seriously and facts recorded, not opinion.", True, []),
    ("2", "Designated safeguarding lead informed and leading.", True, []),
    ("3", "The school's policy on peer-on-peer abuse followed, including how allegations are investigated.", True,
     []),
]
WORKING_TOGETHER_SET = [
    ("1", "Decision on the referral within one working day of receipt.", True, []),
    ("2", "Feedback to the referrer on the decision.", False, []),
]
CRITERIA = {
    ("kcsie", D(2016, 9, 5)): ("K16", KCSIE_2016_SET),
    ("ukccis", D(2016, 8, 1)): ("UK16", SEXTING_SET),
    ("svsh", D(2017, 12, 14)): ("SV17", RESPONSE_SET),
    ("svsh", D(2018, 5, 1)): ("SV18", RESPONSE_SET),
    ("working_together", D(2018, 7, 1)): ("WT18", WORKING_TOGETHER_SET),
    ("kcsie", D(2018, 9, 3)): ("K18", RESPONSE_SET),
    ("kcsie", D(2019, 9, 2)): ("K19", RESPONSE_SET),
    ("kcsie", D(2020, 9, 1)): ("K20", RESPONSE_SET),
}


def seed(apps, schema_editor):
    Document = apps.get_model("guidance", "GuidanceDocument")
    Criterion = apps.get_model("guidance", "Criterion")
    AbuseForm = apps.get_model("referrals", "AbuseForm")
    forms = {f.code: f for f in AbuseForm.objects.all()}
    for series, edition, title, start, verified, summary in DOCUMENTS:
        document, _ = Document.objects.get_or_create(
            series=series,
            in_force_from=start,
            defaults={"edition": edition, "title": title, "date_verified": verified, "summary": summary},
        )
        prefix, items = CRITERIA.get((series, start), ("", []))
        for order, (suffix, text, mandatory, codes) in enumerate(items):
            criterion, created = Criterion.objects.get_or_create(
                document=document,
                code=f"{prefix}.{suffix}",
                defaults={"text": text, "mandatory": mandatory, "order": order},
            )
            if created and codes:
                criterion.forms_of_abuse.set([forms[c] for c in codes if c in forms])


class Migration(migrations.Migration):
    dependencies = [("guidance", "0001_guidance_library"), ("referrals", "0002_seed_reference_data")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
