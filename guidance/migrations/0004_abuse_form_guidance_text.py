"""Plain-language guidance text for each form of abuse (Appendix 7, and the referral form).

The council's own wording, summarising what DfE guidance says about each form; data, not
code: administrators correct it in the admin (with history). Only blank texts are filled,
so an administrator's wording is never overwritten.
"""

from django.db import migrations

TEXTS = {
    "bullying": "Repeated behaviour meant to hurt a child physically or emotionally, in person or online "
    "(cyberbullying). Schools follow their anti-bullying policy and consider whether it is a safeguarding "
    "concern.",
    "prejudice-bullying": "Bullying aimed at a child because of who they are or are thought to be, for "
    "example their race, religion, disability, sex, sexual orientation or gender identity.",
    "physical": "Hitting, kicking, shaking, biting, hair pulling or otherwise causing physical harm to another "
    "child. It can be part of a pattern of bullying or abuse in a relationship.",
    "rape": "Penetration of another child's vagina, anus or mouth with a penis without consent. The starting "
    "point is a report to the police, alongside a referral to children's social care.",
    "assault-by-penetration": "Penetration of another child's vagina or anus with a part of the body or an "
    "object without consent. Report to the police and refer to children's social care.",
    "sexual-assault": "Intentional sexual touching of another child without consent. Report to the police "
    "and refer to children's social care; carry out a risk assessment straight away.",
    "sexual-harassment": "Unwanted conduct of a sexual nature, in person or online: sexual comments, jokes, "
    "taunting, physical behaviour such as brushing against someone, or sharing sexual content. Decide case by "
    "case which of the four responses fits, and record why.",
    "upskirting": "Taking a picture under a person's clothing without their knowledge, to see their genitals "
    "or buttocks. A criminal offence since April 2019 (Voyeurism (Offences) Act 2019).",
    "sexting": "Children creating or sharing sexual images or videos of themselves or other children. Follow "
    "the UKCCIS advice: do not view or copy the images; the DSL decides the response.",
    "nudes": "Sharing nude and semi-nude images or videos (the term used from 2021 for sexting). The DSL "
    "follows the UKCIS advice and involves the police where a child is at risk.",
    "initiation-hazing": "Initiation or hazing rituals used to bring someone into a group, which can include "
    "humiliation, violence or sexual acts.",
    "intimate-relationship": "Physical, sexual, emotional or financial abuse between children in an intimate "
    "relationship with each other.",
    "sexual-activity-without-consent": "Causing another child to take part in sexual activity without their "
    "consent, such as forcing them to strip, touch themselves or take part in sexual activity with someone "
    "else.",
}


def fill(apps, schema_editor):
    AbuseForm = apps.get_model("referrals", "AbuseForm")
    for code, text in TEXTS.items():
        AbuseForm.objects.filter(code=code, guidance_summary="").update(guidance_summary=text)


class Migration(migrations.Migration):
    dependencies = [
        ("guidance", "0003_model_guidance"),
        ("referrals", "0002_seed_reference_data"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
