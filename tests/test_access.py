"""Every URL in the URLconf, walked as every role (and signed out).

New URL patterns are picked up automatically: a page nobody thought about cannot escape,
because a pattern missing from EXPECTED fails the walk.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.roles import Role
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

SKIP_PREFIXES = ("admin:",)
PUBLIC = {"login", "core:accessibility", "logout", "healthz"}
#: Pages anyone may read without signing in (schools are outside the council): they are in
#: EXPECTED for every role too, and signed out they answer 200 rather than a sign-in redirect.
ANONYMOUS = {
    "modelguidance:published",
    "modelguidance:published_pdf",
    "guidance:definitions",
    "modelguidance:acknowledge",
}
#: The security-key ceremonies (core.security_key_views): JSON over POST for the package's
#: script, so a GET answers 405 to every signed-in role. Who may POST what is tested in
#: tests/security/test_webauthn.py (registration is closed to a password-only session of an
#: account with a factor; authentication needs the password first).
POST_ONLY = {
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
}
R = Role
ALL = frozenset(Role)
MASH = frozenset({R.MASH_PRACTITIONER, R.MASH_MANAGER})
OPENERS = MASH | {R.INFORMATION_GOVERNANCE}

REVIEW_READERS = frozenset({R.LEAD_REVIEWER, R.REPORT_OFFICER, R.INFORMATION_GOVERNANCE})
# docs/adr/0009-scrutiny-roles.md: report officers keep the tracker and compose reports; lead
# reviewers and information governance read them.
SCRUTINY_READERS = frozenset({R.LEAD_REVIEWER, R.REPORT_OFFICER, R.INFORMATION_GOVERNANCE})
OFFICERS = frozenset({R.REPORT_OFFICER})
GUIDANCE_EDITORS = frozenset({R.REPORT_OFFICER, R.ADMINISTRATOR})
GUIDANCE_APPROVERS = frozenset({R.REPORT_OFFICER})
DSL_TRAINING = frozenset({R.REPORT_OFFICER, R.ADMINISTRATOR, R.MASH_MANAGER})

#: name -> the roles that get the page (everyone else: 404). The referral is live and the
#: user did not log it, so MASH roles hold the team's default grants and nobody else any.
EXPECTED: dict[str, frozenset[Role]] = {
    "core:home": ALL,
    "core:verify": ALL,
    # Setting up a first authenticator is for an account with none: the walking user has one,
    # so it answers with a redirect to the page that replaces it (tests/security/).
    "core:two_factor_setup": ALL,
    "core:two_factor_replace": ALL,
    "core:two_factor_reset": frozenset({R.ADMINISTRATOR}),
    "core:access_log": frozenset({R.INFORMATION_GOVERNANCE}),
    "core:security_events": frozenset({R.INFORMATION_GOVERNANCE}),
    # Information governance reviews emergency access (the walked one is another user's).
    "core:break_glass_reviews": frozenset({R.INFORMATION_GOVERNANCE}),
    "core:break_glass_review": frozenset({R.INFORMATION_GOVERNANCE}),
    # Every account's own sign-in methods. The walked key id is the referral's, which is no
    # key of the user's: removing answers 404 to everyone (tests/security/test_webauthn.py).
    "core:sign_in_methods": ALL,
    "core:security_key_add": ALL,
    "core:security_key_remove": frozenset(),
    **dict.fromkeys(POST_ONLY, ALL),
    "guidance:timeline": ALL,
    # The walked version is a draft with its equality impact assessment attached; approving
    # and publishing answer with their confirmation pages (the POST is what the service refuses).
    "modelguidance:versions": GUIDANCE_EDITORS,
    "modelguidance:version_detail": GUIDANCE_EDITORS,
    "modelguidance:version_edit": GUIDANCE_EDITORS,
    "modelguidance:version_submit": GUIDANCE_EDITORS,
    "modelguidance:version_eqia": GUIDANCE_EDITORS,
    "modelguidance:version_eqia_file": GUIDANCE_EDITORS,
    "modelguidance:version_approve": GUIDANCE_APPROVERS,
    "modelguidance:version_publish": GUIDANCE_APPROVERS,
    "modelguidance:version_compare": GUIDANCE_EDITORS,
    "modelguidance:version_acknowledgements": GUIDANCE_EDITORS,
    "modelguidance:coverage": DSL_TRAINING,
    "modelguidance:school_coverage": DSL_TRAINING,
    "modelguidance:published": ALL,
    "modelguidance:published_pdf": ALL,
    "guidance:definitions": ALL,
    "modelguidance:acknowledge": ALL,
    # Administrators hold no case data: no work tray, no export (core.permissions.CASE_WORK_ROLES).
    "referrals:tray": ALL - {R.ADMINISTRATOR},
    "referrals:export": ALL - {R.ADMINISTRATOR},
    "referrals:create": MASH,
    "referrals:drafts": MASH,
    "referrals:detail": OPENERS,
    "referrals:history": OPENERS,
    "referrals:edit": MASH,
    "referrals:add_child": MASH,
    "referrals:screen": MASH,
    "referrals:decide": MASH,
    "referrals:amend_decision": MASH,
    "referrals:authorise_decision": frozenset({R.MASH_MANAGER}),
    "referrals:close": MASH,
    "referrals:reopen": MASH,
    "referrals:add_note": MASH,
    "referrals:grants": frozenset({R.MASH_MANAGER}),
    "referrals:break_glass": frozenset({R.MASH_MANAGER}),
    "referrals:restriction": frozenset({R.MASH_MANAGER}),
    "referrals:access_log": frozenset({R.MASH_MANAGER, R.INFORMATION_GOVERNANCE}),
    "referrals:import": frozenset({R.MASH_MANAGER}),
    "referrals:import_sample": frozenset({R.MASH_MANAGER}),
    # The walk fills the id with the referral's; the user is given an import batch with that id.
    "referrals:import_preview": frozenset({R.MASH_MANAGER}),
    # The review is shared with lead reviewers, report officers and information governance;
    # the test user is not its lead, so lead-only pages answer 404 to everyone here.
    "reviews:list": ALL,
    "reviews:create": frozenset({R.LEAD_REVIEWER}),
    "reviews:detail": REVIEW_READERS,
    "reviews:screening": frozenset(),
    "reviews:assignment": frozenset(),
    "reviews:advance": frozenset(),
    "reviews:moderation": frozenset(),
    "reviews:assessment": frozenset(),
    "reviews:findings": REVIEW_READERS,
    "reviews:report": REVIEW_READERS,
    "reviews:case_details": REVIEW_READERS,
    # Document packs of a kind registered in tests (tests/documents_kind.py): report officers
    # export them; the walked job is a finished public pack.
    "documents:exports": frozenset({R.REPORT_OFFICER}),
    "documents:job": frozenset({R.REPORT_OFFICER}),
    "documents:job_status": frozenset({R.REPORT_OFFICER}),
    "documents:download": frozenset({R.REPORT_OFFICER}),
    # The walked report is another officer's; its walked appendix is a public uploaded PDF.
    "scrutiny:tracker": SCRUTINY_READERS,
    "scrutiny:export": SCRUTINY_READERS,
    "scrutiny:recommendation_create": OFFICERS,
    "scrutiny:recommendation": SCRUTINY_READERS,
    "scrutiny:recommendation_edit": OFFICERS,
    "scrutiny:recommendation_history": SCRUTINY_READERS,
    "scrutiny:response": OFFICERS,
    "scrutiny:action_add": OFFICERS,
    "scrutiny:evidence_add": OFFICERS,
    "scrutiny:action": OFFICERS,
    "scrutiny:reports": SCRUTINY_READERS,
    "scrutiny:report_create": OFFICERS,
    "scrutiny:report": SCRUTINY_READERS,
    "scrutiny:report_edit": OFFICERS,
    "scrutiny:report_history": SCRUTINY_READERS,
    # Information governance gives access to exempt appendices (nobody grants to themselves).
    "scrutiny:report_grants": frozenset({R.INFORMATION_GOVERNANCE}),
    "scrutiny:disclosure_check": SCRUTINY_READERS,
    "scrutiny:decision": OFFICERS,
    "scrutiny:report_publish": OFFICERS,
    "scrutiny:appendix_add": OFFICERS,
    "scrutiny:appendix": SCRUTINY_READERS,
    "scrutiny:appendix_edit": OFFICERS,
    "scrutiny:appendix_file": SCRUTINY_READERS,
}


#: Pages that answer a role they are open to with a redirect, and where to.
REDIRECTS = {
    "core:home": None,  # to the role's own start page
    "core:two_factor_setup": "/account/two-factor/replace/",  # the account has an authenticator
}


def named_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def app_urls(referral_pk: int, **ids: int) -> dict[str, str]:
    """Every named URL of the product, with every argument filled with a real id.

    ``pk`` is the referral's id unless ``ids`` names one for the URL's namespace (for
    example ``reviews=review.pk``); other arguments (``assessment_pk``) come from ``ids``
    by name. A URL whose argument has no id is filled with the referral's id.
    """
    urls = {}
    for name, pattern in named_patterns():
        if name.startswith(SKIP_PREFIXES):
            continue
        namespace = name.split(":")[0]
        kwargs = {}
        for key in pattern.pattern.regex.groupindex:
            if key == "pk":
                kwargs[key] = ids.get(namespace, referral_pk)
            else:
                kwargs[key] = ids.get(key, referral_pk)
        urls[name] = reverse(name, kwargs=kwargs)
    return urls


@pytest.fixture
def review_ids(role_user, settings, tmp_path):
    """A review (led by someone else) with one assessment, for the review URLs; and scrutiny's
    records (tests/scrutiny/walk.py)."""
    import datetime as dt

    from django.utils import timezone

    from reviews import services as review_services

    lead = role_user(R.LEAD_REVIEWER, username="the-lead")
    reviewer = role_user(R.REVIEWER, username="the-reviewer")
    referral = ReferralFactory(status="closed", received_at=timezone.now() - dt.timedelta(days=400))
    day = timezone.localtime(referral.received_at).date()
    review = review_services.review_create(
        user=lead,
        title="Access review",
        terms_of_reference="ToR",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[review_services.PeriodInput("All", day, day)],
        grants_end_on=timezone.localdate() + dt.timedelta(days=30),
        require_same_school=False,
    )
    review_services.review_start_screening(user=lead, review_id=review.pk)
    decision = review.screening.get()
    review_services.screening_decide(user=lead, decision_id=decision.pk, include=True)
    review_services.review_start_reviewing(user=lead, review_id=review.pk)
    assessment = review_services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
    )
    from tests.scrutiny.walk import scrutiny_walk_ids

    settings.MEDIA_ROOT = tmp_path
    return {"reviews": review.pk, "assessment_pk": assessment.pk, **scrutiny_walk_ids(role_user)}


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


def _own_import_batch(user, pk: int) -> None:
    """An import batch of the user's own under the walked id (a batch is its uploader's alone)."""
    from referrals.models import ImportBatch

    ImportBatch.objects.create(
        pk=pk,
        uploaded_by=user,
        filename="walk.csv",
        sha256="0" * 64,
        size=0,
        status=ImportBatch.Status.INVALID,
    )


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
