"""The import preview lists the referrals a file will create and update, before the manager
confirms: by reference, and with only what the access rules let the manager see of each."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AccessLogEntry
from core.roles import Role
from devtools.synthetic import to_csv
from referrals import services
from referrals.imports import services as imports
from referrals.models import ImportBatch, Referral, School
from tests.conftest import sign_in_verified
from tests.support.imports import SAMPLE, SAMPLE_URNS, check, import_file, sample_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def schools(db):
    for urn in SAMPLE_URNS:
        School.objects.create(
            urn=urn, name=f"Import School {urn} (demo)", phase="secondary", local_authority="X"
        )


def preview_page(client, batch: ImportBatch) -> str:
    response = client.get(reverse("referrals:import_preview", args=[batch.pk]))
    assert response.status_code == 200
    return response.content.decode()


def logged(manager, referral) -> int:
    return AccessLogEntry.objects.filter(user=manager, record_id=referral.pk).count()


def test_the_preview_lists_each_new_referral_by_row_case_id_and_day_without_identities(
    client, manager, schools
):
    sign_in_verified(client, manager)
    batch = check(manager, SAMPLE.read_bytes())
    body = preview_page(client, batch)
    assert "Referrals that will be created" in body
    assert "Each gets its reference when the file is imported" in body
    for number, row in enumerate(sample_rows(), start=2):
        assert row["source_id"] in body
        assert f'<td class="govuk-table__cell govuk-table__cell--numeric">{number}</td>' in body
        for column in ("child1_first_name", "child1_last_name", "referrer_name"):
            assert row[column] not in body  # nothing from the file identifies anyone
    assert "14 January 2015" in body  # the first row's day received
    assert not AccessLogEntry.objects.exists()


def test_after_the_import_the_page_names_the_referrals_created_and_logs_each_identity_shown(
    client, manager, schools
):
    sign_in_verified(client, manager)
    batch = check(manager, SAMPLE.read_bytes())
    client.post(reverse("referrals:import_preview", args=[batch.pk]), {"action": "import"})
    body = preview_page(client, batch)
    assert "Referrals created" in body
    imported = Referral.objects.filter(external_id__isnull=False)
    assert imported.count() == 6
    for referral in imported:
        assert reverse("referrals:detail", args=[referral.pk]) in body
        # A manager reads closed referrals for history checks, so sees the children: logged.
        assert logged(manager, referral) == 1
    assert "Demoford" in body


def test_the_preview_lists_the_referrals_that_change_named_only_where_the_manager_may_identify_them(
    client, manager, schools
):
    import_file(manager, SAMPLE.read_bytes())
    rows = sample_rows()
    rows[0]["narrative"] = "SAMPLE (synthetic). Changed in the case system."
    rows[1]["narrative"] = "SAMPLE (synthetic). Changed too."
    restricted = Referral.objects.get(external_id=rows[1]["source_id"])
    services.referral_restrict(
        user=manager,
        referral_id=restricted.pk,
        expected_version=restricted.version,
        reason="The family asked for extra protection after threats at school",
    )
    shown = Referral.objects.get(external_id=rows[0]["source_id"])
    extra = dict(rows[2], source_id="CASE-2015-009999")
    batch = check(manager, to_csv([*rows, extra]))
    assert (batch.new_count, batch.changed_count) == (1, 2)

    sign_in_verified(client, manager)
    before = {r.pk: logged(manager, r) for r in (shown, restricted)}
    body = preview_page(client, batch)
    changed = body[body.index("Referrals that will change") :]
    created = body[body.index("Referrals that will be created") : body.index("Referrals that will change")]
    assert "CASE-2015-009999" in created
    assert rows[2]["child1_last_name"] not in created  # a row still to be created names nobody
    for referral in (shown, restricted):
        assert referral.reference in changed
        assert reverse("referrals:detail", args=[referral.pk]) in changed
    assert "What was reported" in changed
    # The manager may identify the closed referral, not the restricted one (only named grants).
    assert rows[0]["child1_last_name"] in changed
    assert rows[1]["child1_last_name"] not in changed
    assert "Child A" in changed
    assert logged(manager, shown) == before[shown.pk] + 1
    assert logged(manager, restricted) == before[restricted.pk]


def test_only_the_uploader_sees_the_list(client, manager, role_user, schools):
    batch = check(manager, SAMPLE.read_bytes())
    other = role_user(Role.MASH_MANAGER, username="othermanager")
    sign_in_verified(client, other)
    assert client.get(reverse("referrals:import_preview", args=[batch.pk])).status_code == 404
    assert imports.can_import(other)
