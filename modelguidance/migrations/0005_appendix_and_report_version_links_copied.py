"""Copy scrutiny's two foreign keys to ModelGuidanceVersion into this app's link tables, before
scrutiny 0009 drops them (``run_before``: scrutiny's migrations never name this app).

- ``Appendix.guidance_version`` -> ``AppendixGuidanceVersion`` (one row per appendix naming a
  version), and its history: each change of the value in ``HistoricalAppendix`` becomes a
  history record of the link (created, changed, deleted) with the same date, user and reason,
  so the appendix's choice keeps its history.
- ``ReportVersion.guidance_version`` -> ``ReportVersionGuidanceVersion`` (the frozen version a
  published report carried; not historised, as the column was not).

Reversible: the reverse puts the values back into scrutiny's columns (re-added by reversing
scrutiny 0009 first), the historical appendix rows included, from the link's history, and
empties the link tables (migrating forward again copies them anew).
"""

from django.db import migrations


def copy_links(apps, schema_editor):
    Appendix = apps.get_model("scrutiny", "Appendix")
    HistoricalAppendix = apps.get_model("scrutiny", "HistoricalAppendix")
    ReportVersion = apps.get_model("scrutiny", "ReportVersion")
    Link = apps.get_model("modelguidance", "AppendixGuidanceVersion")
    HistoricalLink = apps.get_model("modelguidance", "HistoricalAppendixGuidanceVersion")
    Carried = apps.get_model("modelguidance", "ReportVersionGuidanceVersion")

    Link.objects.bulk_create(
        Link(appendix_id=appendix_id, guidance_version_id=version_id)
        for appendix_id, version_id in Appendix.objects.filter(guidance_version__isnull=False).values_list(
            "pk", "guidance_version_id"
        )
    )
    Carried.objects.bulk_create(
        Carried(report_version_id=version_id, guidance_version_id=guidance_id)
        for version_id, guidance_id in ReportVersion.objects.filter(guidance_version__isnull=False).values_list(
            "pk", "guidance_version_id"
        )
    )

    history, was = [], {}
    for row in HistoricalAppendix.objects.order_by("id", "history_date", "history_id").iterator():
        before = was.get(row.id)
        now = None if row.history_type == "-" else row.guidance_version_id
        if now == before:
            continue
        was[row.id] = now
        history.append(
            HistoricalLink(
                appendix_id=row.id,
                guidance_version_id=now if now is not None else before,
                history_type="+" if before is None else ("-" if now is None else "~"),
                history_date=row.history_date,
                history_user_id=row.history_user_id,
                history_change_reason=row.history_change_reason,
            )
        )
    HistoricalLink.objects.bulk_create(history, batch_size=500)


def copy_links_back(apps, schema_editor):
    Appendix = apps.get_model("scrutiny", "Appendix")
    HistoricalAppendix = apps.get_model("scrutiny", "HistoricalAppendix")
    ReportVersion = apps.get_model("scrutiny", "ReportVersion")
    Link = apps.get_model("modelguidance", "AppendixGuidanceVersion")
    HistoricalLink = apps.get_model("modelguidance", "HistoricalAppendixGuidanceVersion")
    Carried = apps.get_model("modelguidance", "ReportVersionGuidanceVersion")

    for appendix_id, version_id in Link.objects.values_list("appendix_id", "guidance_version_id"):
        Appendix.objects.filter(pk=appendix_id).update(guidance_version_id=version_id)
    for report_version_id, version_id in Carried.objects.values_list("report_version_id", "guidance_version_id"):
        ReportVersion.objects.filter(pk=report_version_id).update(guidance_version_id=version_id)

    # Each historical appendix row gets the version its link named at that moment (a deletion
    # record: the version it named just before, as simple-history records a deleted row).
    changes: dict[int, list] = {}
    for link in HistoricalLink.objects.order_by("history_date", "history_id"):
        value = None if link.history_type == "-" else link.guidance_version_id
        changes.setdefault(link.appendix_id, []).append((link.history_date, value))
    for row in HistoricalAppendix.objects.filter(id__in=list(changes)).iterator():
        value = None
        for when, then in changes[row.id]:
            if when > row.history_date or (row.history_type == "-" and when == row.history_date):
                break
            value = then
        if value is not None:
            HistoricalAppendix.objects.filter(history_id=row.history_id).update(guidance_version_id=value)
    # The links are scrutiny's columns again: migrating forward copies them anew.
    HistoricalLink.objects.all().delete()
    Link.objects.all().delete()
    Carried.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("modelguidance", "0004_appendix_and_report_version_links"),
        ("scrutiny", "0008_review_grants_not_self_given"),
    ]
    run_before = [("scrutiny", "0009_appendix_links_kept_by_the_app_above")]

    operations = [migrations.RunPython(copy_links, copy_links_back)]
