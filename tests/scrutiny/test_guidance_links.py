"""The model guidance version an appendix puts to the meeting, and the version a published report
carried, are kept by the app above scrutiny (``modelguidance.AppendixGuidanceVersion`` and
``ReportVersionGuidanceVersion``), which scrutiny reads and writes through its registry
(``scrutiny.extensions``): scrutiny names no app above it, not even in a string foreign key or a
migration's dependency (docs/adr/0019-layers.md). The behaviours stay: the form's choice of a
version, blank meaning the published one, the version frozen at publication, history, and a
version that is named or was carried cannot be deleted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from core.roles import Role
from modelguidance import services as guidance_services
from modelguidance.models import AppendixGuidanceVersion, ReportVersionGuidanceVersion
from scrutiny import extensions, packs, services
from scrutiny.models import Appendix
from tests.conftest import sign_in_verified
from tests.guidance.helpers import approved, published
from tests.scrutiny.helpers import add_appendix, carried_guidance, chosen_guidance, make_report, publish

ROOT = Path(__file__).resolve().parents[2]
#: Scrutiny's migrations written before the link was turned round (0005 pointed the foreign keys
#: at modelguidance when the model guidance moved there); none after may name it.
LAST_MIGRATION_NAMING_IT = 8

V1 = [guidance_services.SectionInput("Purpose", "Linkversiononetext.")]
V2 = [guidance_services.SectionInput("Purpose", "Linkversiontwotext.")]


def _scrutiny_sources():
    for path in sorted((ROOT / "scrutiny").rglob("*.py")):
        if "migrations" in path.parts:
            number = re.match(r"(\d{4})_", path.name)
            if number is None or int(number.group(1)) <= LAST_MIGRATION_NAMING_IT:
                continue
        yield path
    yield from sorted((ROOT / "templates" / "scrutiny").rglob("*.*"))


def test_scrutiny_names_no_app_above_it_in_code_templates_or_later_migrations():
    """import-linter sees imports only: a string foreign key ("modelguidance.X"), a migration's
    dependency or a URL name would go unnoticed. No scrutiny module, template or migration after
    0008 mentions modelguidance."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _scrutiny_sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "modelguidance" in line.lower()
    ]
    assert not offenders, "scrutiny names the app above it:\n" + "\n".join(offenders)


def test_no_scrutiny_field_points_at_an_app_above_it():
    from django.apps import apps

    above = {"modelguidance"}
    for model in apps.get_app_config("scrutiny").get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is not None:
                assert field.related_model._meta.app_label not in above, f"{model.__name__}.{field.name}"


def test_no_later_scrutiny_migration_depends_on_an_app_above_it():
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in loader.disk_migrations.items():
        if app != "scrutiny" or int(name[:4]) <= LAST_MIGRATION_NAMING_IT:
            continue
        assert all(parent != "modelguidance" for parent, _ in migration.dependencies), name
    # The copy into the link tables runs before scrutiny drops its columns: said from above.
    plan = loader.graph.forwards_plan(("scrutiny", "0009_appendix_links_kept_by_the_app_above"))
    assert ("modelguidance", "0005_appendix_and_report_version_links_copied") in plan


@pytest.mark.django_db
class TestTheLink:
    @pytest.fixture
    def officer(self, role_user, settings, tmp_path):
        settings.MEDIA_ROOT = str(tmp_path / "media")
        return role_user(Role.REPORT_OFFICER, username="officer")

    @pytest.fixture
    def versions(self, officer):
        v1 = published(officer, sections=V1, title="Link v1")
        return v1, approved(officer, sections=V2, title="Link v2")

    @pytest.fixture
    def report(self, officer):
        return make_report(officer)

    def _body(self, appendix) -> str:
        from django.template.loader import render_to_string

        appendix.refresh_from_db()
        return render_to_string(packs.TEMPLATES[appendix.kind][1], packs.appendix_context(appendix))

    def test_the_appendix_prints_the_version_chosen_and_blank_means_the_published_one(
        self, officer, versions, report, client
    ):
        _, v2 = versions
        appendix = add_appendix(
            officer, report, kind="model_guidance", title="Model guidance", guidance_version=v2
        )
        assert chosen_guidance(appendix) == v2
        assert extensions.subject(appendix) == v2
        assert "Linkversiontwotext" in self._body(appendix)
        assert "Linkversiononetext" not in self._body(appendix)

        # The edit form shows the choice; choosing blank prints the published version again.
        sign_in_verified(client, officer)
        edit = reverse("scrutiny:appendix_edit", args=[appendix.pk])
        page = client.get(edit).content.decode()
        assert re.search(rf'<option value="{v2.pk}"[^>]* selected>', page), "the chosen version is selected"
        appendix.refresh_from_db()
        response = client.post(
            edit,
            {
                "version": appendix.version,
                "kind": "model_guidance",
                "title": "Model guidance",
                "guidance_version": "",
            },
        )
        assert response.status_code == 302, response.content.decode()
        assert chosen_guidance(appendix) is None
        assert "Linkversiononetext" in self._body(appendix)
        # And back through the form: the version posted is the version kept.
        appendix.refresh_from_db()
        response = client.post(
            edit,
            {
                "version": appendix.version,
                "kind": "model_guidance",
                "title": "Model guidance",
                "guidance_version": str(v2.pk),
            },
        )
        assert response.status_code == 302
        assert chosen_guidance(appendix) == v2

        # The choice has its history, as the appendix's column had: who, when, why.
        history = list(AppendixGuidanceVersion.history.filter(appendix_id=appendix.pk).order_by("history_id"))
        changes = [(h.history_type, h.guidance_version_id) for h in history]
        assert changes == [("+", v2.pk), ("-", v2.pk), ("+", v2.pk)]
        assert {h.history_user_id for h in history} == {officer.pk}
        assert history[0].history_change_reason == f"Appendix {appendix.number} added"
        # ... and the report's history page shows it, as it showed the appendix's column.
        page = client.get(reverse("scrutiny:report_history", args=[report.pk])).content.decode()
        for action in ("created", "deleted"):
            what = f"the model guidance put to the meeting (version {v2.number}) {action}"
            assert f"Appendix {appendix.number}: {what}" in page

        # Another kind names no version.
        appendix.refresh_from_db()
        services.appendix_update(
            user=officer,
            appendix_id=appendix.pk,
            expected_version=appendix.version,
            data=services.AppendixInput(kind="text", title="Text now", text="Plain", guidance_version=v2),
        )
        assert chosen_guidance(appendix) is None

    def test_publication_freezes_the_version_the_appendix_drew(self, officer, versions, report, client):
        v1, v2 = versions
        appendix = add_appendix(
            officer, report, kind="model_guidance", title="Model guidance", guidance_version=v2
        )
        first = publish(officer, report)
        assert carried_guidance(first) == v2
        assert extensions.carried([first]) == {first.pk: v2}

        # Blank: the published version is drawn, and recorded as what the version carried.
        appendix.refresh_from_db()
        services.appendix_update(
            user=officer,
            appendix_id=appendix.pk,
            expected_version=appendix.version,
            data=services.AppendixInput(kind="model_guidance", title="Model guidance"),
        )
        second = publish(officer, report, kind="correction", reason="The version in force is put instead.")
        assert (carried_guidance(first), carried_guidance(second)) == (v2, v1)

        # What a published version carried is written once.
        link = ReportVersionGuidanceVersion.objects.get(report_version=first)
        link.guidance_version = v1
        with pytest.raises(ValueError, match="recorded once"):
            link.save()
        assert carried_guidance(first) == v2

        sign_in_verified(client, officer)
        page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
        assert f"Model guidance: version {v2.number}, as it stood then." in page
        assert f"Model guidance: version {v1.number}, as it stood then." in page

    def test_a_version_an_appendix_names_or_a_published_report_carried_cannot_be_deleted(
        self, officer, versions, report
    ):
        _, v2 = versions
        appendix = add_appendix(
            officer, report, kind="model_guidance", title="Model guidance", guidance_version=v2
        )
        with pytest.raises(ProtectedError), transaction.atomic():
            v2.delete()
        publish(officer, report)
        appendix.refresh_from_db()
        services.appendix_update(
            user=officer,
            appendix_id=appendix.pk,
            expected_version=appendix.version,
            data=services.AppendixInput(kind="text", title="Text now", text="Plain"),
        )
        assert chosen_guidance(appendix) is None
        with pytest.raises(ProtectedError), transaction.atomic():
            v2.delete()  # still carried by the published version
        assert type(v2).objects.filter(pk=v2.pk).exists()

    def test_the_links_stay_out_of_the_admin_as_the_rows_they_describe(self, client, admin_user, versions):
        """Published versions and appendices are not in the admin (scrutiny's services write
        them); nor are their links. The read-only version admin still opens for a version."""
        from django.contrib import admin

        from scrutiny.models import ReportVersion

        _, v2 = versions
        for model in (Appendix, ReportVersion, AppendixGuidanceVersion, ReportVersionGuidanceVersion):
            assert model not in admin.site._registry
        admin_client = sign_in_verified(client, admin_user)
        page = admin_client.get(reverse("admin:modelguidance_modelguidanceversion_change", args=[v2.pk]))
        assert page.status_code == 200
