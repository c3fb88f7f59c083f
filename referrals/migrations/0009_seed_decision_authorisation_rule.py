"""The default rule (REFERENCE.md, MASH decision oversight): no further action on any
sexual-abuse referral needs a manager's authorisation. Administrators change rules in the admin."""

from django.db import migrations


def seed(apps, schema_editor):
    Outcome = apps.get_model("referrals", "Outcome")
    Rule = apps.get_model("referrals", "DecisionAuthorisationRule")
    nfa = Outcome.objects.filter(code="nfa").first()
    if nfa is not None and not Rule.objects.filter(outcome=nfa, abuse_form=None).exists():
        Rule.objects.create(outcome=nfa, abuse_form=None, sexual_abuse_only=True)


class Migration(migrations.Migration):
    dependencies = [("referrals", "0008_decision_authorisation_and_amendment")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
