"""The role x URL matrix (who may open which page) and the URL walk the posture tests share."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.roles import Role
from tests.factories import ReferralFactory

SKIP_PREFIXES = ("admin:",)
PUBLIC = {"login", "core:accessibility", "logout", "healthz"}
#: Pages anyone may read without signing in (schools are outside the council): they are in
#: EXPECTED for every role too, and signed out they answer 200 rather than a sign-in redirect.
ANONYMOUS = {
    "core:password_set",  # the e-mailed link: says "this link does not work" without a token
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
    # Opening a notification marks it read, so it is a POST (a prefetched link marks nothing);
    # only the user's own answers (tests/core/test_notifications.py).
    "core:notification_open",
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
    "core:password_change": ALL,
    "core:password_set": ALL,
    "core:security_key_add": ALL,
    "core:security_key_remove": frozenset(),
    **dict.fromkeys(POST_ONLY, ALL),
    # Every account's own notifications and its choice of e-mail (core.notifications).
    "core:notifications": ALL,
    "core:notification_preferences": ALL,
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
    "modelguidance:training_reminders": GUIDANCE_EDITORS,
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
    # The child record opens for those who may identify a referral the child is in: here the
    # MASH team (the referral is live); information governance only with a grant.
    "referrals:child": MASH,
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
    "referrals:dashboard": frozenset({R.MASH_MANAGER}),
    "referrals:allocate": frozenset({R.MASH_MANAGER}),
    "referrals:import": frozenset({R.MASH_MANAGER}),
    "referrals:import_sample": frozenset({R.MASH_MANAGER}),
    # The walk fills the id with the referral's; the user is given an import batch with that id.
    "referrals:import_preview": frozenset({R.MASH_MANAGER}),
    # The review is shared with lead reviewers, report officers and information governance;
    # the test user is not its lead, so lead-only pages answer 404 to everyone here.
    "reviews:list": frozenset({R.REVIEWER}) | REVIEW_READERS,
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
    "scrutiny:appendix_preview": SCRUTINY_READERS,
    "scrutiny:report_preview": SCRUTINY_READERS,
    # Records lifecycle (retention, legal holds, disposal): information governance alone.
    "records:home": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:hold_create": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:hold": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:disposal_review": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:candidate": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:batch": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:sars": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:sar_create": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:sar": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:sar_redactions": frozenset({R.INFORMATION_GOVERNANCE}),
    "records:sar_sign_off": frozenset({R.INFORMATION_GOVERNANCE}),
    # Contextual safeguarding (contexts.permissions): managers work the alerts and contexts; the
    # rules are configuration a manager or an administrator changes; the public-safe figures
    # are also for report officers and information governance.
    "contexts:alerts": frozenset({R.MASH_MANAGER}),
    "contexts:alert": frozenset({R.MASH_MANAGER}),
    "contexts:alert_action": frozenset({R.MASH_MANAGER}),
    "contexts:contexts": frozenset({R.MASH_MANAGER}),
    "contexts:context": frozenset({R.MASH_MANAGER}),
    "contexts:figures": frozenset({R.MASH_MANAGER}),
    "contexts:rules": frozenset({R.MASH_MANAGER}),
    "contexts:rule_edit": frozenset({R.MASH_MANAGER}),
    "contexts:figures_public": frozenset({R.MASH_MANAGER, R.REPORT_OFFICER, R.INFORMATION_GOVERNANCE}),
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
    by name. A URL whose argument has no id is filled with the referral's id, apart from
    ``child_pk``: the referral's first child.
    """
    from referrals.models import ReferralChild

    # A child of the referral (its first), for the child record, unless ``ids`` names one.
    ids.setdefault(
        "child_pk",
        ReferralChild.objects.filter(referral_id=referral_pk)
        .order_by("label")
        .values_list("child_id", flat=True)
        .first()
        or referral_pk,
    )
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
    return {
        "reviews": review.pk,
        "assessment_pk": assessment.pk,
        **scrutiny_walk_ids(role_user),
        **records_walk_ids(role_user),
        **contexts_walk_ids(),
    }


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


def records_walk_ids(role_user) -> dict[str, int]:
    """A legal hold, a record in the disposal review and a batch awaiting approval, for the
    records URLs (made by another information governance officer)."""
    from records.models import DisposalBatch, DisposalCandidate, LegalHold

    officer = role_user(R.INFORMATION_GOVERNANCE, username="the-records-officer")
    now = timezone.now()
    # Closed and restricted: nobody walking holds a grant on it, so no list or export shows it.
    referral = ReferralFactory(status="closed", restricted_at=now)
    hold = LegalHold.objects.create(name="Walked hold", reason="Walk", placed_by=officer, placed_at=now)
    hold.referrals.add(referral)
    batch = DisposalBatch.objects.create(created_by=officer, created_at=now)
    candidate = DisposalCandidate.objects.create(
        record_type="referral",
        record_id=referral.pk,
        reference=referral.reference,
        rule="referral:*",
        rule_description="Walk",
        rule_source="Walk",
        trigger_date=now.date(),
        due_on=now.date(),
        listed_at=now,
    )
    from records.models import SubjectAccessRequest

    sar = SubjectAccessRequest.objects.create(
        subject_label=f"{referral.reference}, Child A",
        requester_name="Walk requester",
        relation=SubjectAccessRequest.Relation.CHILD,
        identity_verified="Walk",
        received_on=now.date(),
        due_on=now.date(),
        logged_by=officer,
        logged_at=now,
    )
    return {"hold_pk": hold.pk, "candidate_pk": candidate.pk, "batch_pk": batch.pk, "sar_pk": sar.pk}


def contexts_walk_ids() -> dict[str, int]:
    """An alert about a school, with its context and one referral of its own, for the contexts
    URLs (raised by the product, as every alert is)."""
    from contexts.models import Alert, AlertEvidence, Context, PatternRule

    referral = ReferralFactory(status="closed")
    school = referral.children.select_related("child__school").first().child.school
    rule = PatternRule.objects.get(kind=PatternRule.Kind.SAME_SCHOOL)
    context = Context.objects.create(kind=Context.Kind.SCHOOL, school=school)
    now = timezone.now()
    alert = Alert.objects.create(
        rule=rule, subject_key=f"context:{context.pk}", context=context, raised_at=now
    )
    AlertEvidence.objects.create(alert=alert, referral=referral, added_at=now)
    return {"alert_pk": alert.pk, "context_pk": context.pk, "rule_pk": rule.pk}
