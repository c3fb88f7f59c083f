"""Every URL in the URLconf, walked as every role (and signed out).

New URL patterns are picked up automatically: a page nobody thought about cannot escape,
because a pattern missing from EXPECTED (tests/support/access.py) fails the walk.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory
from tests.support.access import (
    ANONYMOUS,
    EXPECTED,
    POST_ONLY,
    PUBLIC,
    R,
    _own_import_batch,
    app_urls,
)

pytestmark = pytest.mark.django_db


#: Pages that answer a role they are open to with a redirect, and where to.
REDIRECTS = {
    "core:home": None,  # to the role's own start page
    "core:two_factor_setup": "/account/two-factor/replace/",  # the account has an authenticator
}


@pytest.fixture
def guidance_ids(role_user, django_capture_on_commit_callbacks):
    """A published version whose acknowledgement link was e-mailed to a school's DSL, and a
    newer draft with its equality impact assessment attached (the walked version)."""
    import re

    from django.core import mail

    from modelguidance import services as guidance_services
    from tests.guidance.helpers import draft, eqia_upload, published, school_with_dsl

    officer = role_user(R.REPORT_OFFICER, username="the-officer")
    school, _ = school_with_dsl(trained_on=None)
    with django_capture_on_commit_callbacks(execute=True):
        published(officer, title="Published guidance")
    link = re.search(r"/guidance/acknowledge/(?P<urn>[^/]+)/(?P<token>[^/\s]+)/", mail.outbox[-1].body)
    version = draft(officer, title="Walked draft")
    guidance_services.guidance_version_attach_eqia(
        user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
    )
    return {"modelguidance": version.pk, "school_pk": school.pk, **link.groupdict()}


@pytest.fixture
def document_ids(role_user, review_ids):
    """A finished public pack of the test document kind, for the export URLs (stored under the
    MEDIA_ROOT the review fixture chose)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from core.models import ExportJob
    from tests.documents_kind import KIND

    referral = ReferralFactory()
    name = default_storage.save("packs/walk.pdf", ContentFile(b"%PDF-1.7 walk"))
    job = ExportJob.objects.create(
        kind=KIND,
        object_id=referral.pk,
        variant=ExportJob.Variant.PUBLIC,
        source_digest="0" * 64,
        title="Walk",
        status=ExportJob.Status.DONE,
        file=name,
        checksum="0" * 64,
        size=13,
        pages=1,
        requested_by=role_user(R.REPORT_OFFICER, username="the-exporter"),
        finished_at=timezone.now(),
    )
    return {"documents": job.pk, "kind": KIND, "object_id": referral.pk}


@pytest.fixture
def break_glass_ids(role_user):
    """An emergency access by a MASH manager, awaiting information governance's review."""
    from core.models import AccessLogEntry

    referral = ReferralFactory()
    entry = AccessLogEntry.objects.create(
        user=role_user(R.MASH_MANAGER, username="the-glass-breaker"),
        record_type="referrals.referral",
        record_id=referral.pk,
        record_label=referral.reference,
        channel=AccessLogEntry.Channel.BREAK_GLASS,
        reason="Police called about a missing child tonight",
        break_glass=True,
    )
    return {"entry_pk": entry.pk}


@pytest.fixture
def walk_ids(review_ids, document_ids, guidance_ids, break_glass_ids):
    return {**review_ids, **document_ids, **guidance_ids, **break_glass_ids}


def test_every_pattern_is_fillable_and_has_an_expectation(walk_ids):
    referral = ReferralFactory()
    urls = app_urls(referral.pk, **walk_ids)
    assert all("<" not in url for url in urls.values())
    assert set(urls) - PUBLIC == set(EXPECTED), "add the new page to EXPECTED"


@pytest.mark.parametrize("role", list(Role))
def test_every_url_as_every_role(client, role_user, role, walk_ids):
    referral = ReferralFactory()
    user = role_user(role)
    _own_import_batch(user, referral.pk)
    sign_in_verified(client, user)
    for name, url in app_urls(referral.pk, **walk_ids).items():
        if name in PUBLIC:
            continue
        response = client.get(url)
        if name in POST_ONLY:
            assert response.status_code == 405, (name, response.status_code)
        elif role in EXPECTED[name]:
            assert response.status_code in (200, 302), (name, response.status_code)
            if response.status_code == 302:
                assert name in REDIRECTS, name
                assert REDIRECTS[name] in (None, response["Location"]), name
        else:
            # A record or page the user may not open answers 404: no hint that it exists.
            assert response.status_code == 404, (name, response.status_code)


def test_signed_out_users_are_sent_to_sign_in(client, walk_ids):
    referral = ReferralFactory()
    for name, url in app_urls(referral.pk, **walk_ids).items():
        if name in PUBLIC:
            continue
        response = client.get(url)
        if name in ANONYMOUS:
            assert response.status_code == 200, name
            continue
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_a_missing_referral_is_404_for_mash_roles(practitioner_client):
    assert practitioner_client.get(reverse("referrals:detail", args=[999999])).status_code == 404


def test_admin_holds_reference_data_and_a_read_only_access_log(client, admin_user):
    from django.contrib import admin

    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 302  # staff need a verified session too
    admin_client = sign_in_verified(client, admin_user)

    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {
        "referrals.Referral",
        "referrals.ReferralDetail",
        "referrals.Child",
        "referrals.ReferralChild",
        "referrals.ReferralDecision",
        "referrals.CaseNote",
        "referrals.ReferralUserGrant",
        "referrals.ReferralGroupGrant",
    }
    assert admin_client.get("/admin/referrals/school/").status_code == 200
    assert admin_client.get("/admin/core/accesslogentry/add/").status_code == 403


def test_post_without_csrf_token_is_refused(practitioner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(practitioner)
    response = client.post(reverse("referrals:create"), {"save": "1"})
    assert response.status_code == 403
