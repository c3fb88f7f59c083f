"""The leak test: a canary in every exempt field, looked for everywhere.

Every URL pattern of the product (filled with real ids, so a new page is covered the day it
is added), every export, every log line, every task payload and every e-mail, as every role
without a grant: the canary appears nowhere. Then, as a grant holder, it appears, and each
read writes exactly one access-log row.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import permissions
from core.models import AccessLogEntry
from core.roles import Role
from referrals import services
from referrals.models import School
from tests.conftest import sign_in_verified
from tests.nplusone import unit_of_work
from tests.support.access import app_urls
from tests.support.canary import CANARY, leaks

pytestmark = pytest.mark.django_db


@pytest.fixture
def canary_exports(canary_referral, settings, tmp_path):
    """Both packs of the canary referral (test document kind), made as the worker makes them.

    The walk follows the exempt job's pages and download; nobody in it holds a grant."""
    from core.documents import get_kind
    from core.documents import services as document_services
    from core.models import ExportJob
    from tests.documents_kind import KIND

    settings.MEDIA_ROOT = str(tmp_path / "media")
    entry = get_kind(KIND)
    jobs = {}
    for variant in ExportJob.Variant.values:
        job = ExportJob.objects.create(
            kind=KIND,
            object_id=canary_referral.pk,
            variant=variant,
            source_digest=entry.digest(canary_referral),
            title=entry.title(canary_referral),
            requested_by=canary_referral.created_by,
        )
        jobs[variant] = document_services.export_job_run(job_id=job.pk)
        assert jobs[variant].status == ExportJob.Status.DONE
    return {"documents": jobs["exempt"].pk, "kind": KIND, "object_id": canary_referral.pk, "jobs": jobs}


def test_the_public_pack_has_no_canary_and_the_exempt_pack_has(canary_exports):
    from django.core.files.storage import default_storage

    from tests.core.pdf_helpers import pdf_text

    texts = {}
    for variant, job in canary_exports["jobs"].items():
        with default_storage.open(job.file.name, "rb") as handle:
            texts[variant] = pdf_text(handle.read())
    assert not leaks(texts["public"]), leaks(texts["public"])
    assert leaks(texts["exempt"])


def test_task_payloads_and_emails_carry_no_exempt_data(canary_referral, published):
    assert published, "the decision should have queued its feedback e-mail"
    for name, args, kwargs in published:
        assert all(isinstance(a, int) for a in (args or ())), (name, args)
        assert not kwargs, (name, kwargs)
    for message in mail.outbox:
        assert not leaks(message.subject + message.body), message.body


def response_text(response) -> str:
    """What a response shows: its text, or a PDF's extracted text (the print previews)."""
    content = b"".join(response) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        from tests.core.pdf_helpers import pdf_text

        return pdf_text(content)
    return content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_no_role_without_a_grant_meets_the_canary_anywhere(
    client, role_user, role, canary_referral, canary_review, canary_exports, caplog
):
    user = role_user(role)
    sign_in_verified(client, user)
    caplog.set_level(logging.DEBUG)
    school = School.objects.get(urn="LEAK0001")
    document_ids = {k: v for k, v in canary_exports.items() if k != "jobs"}
    urls = list(app_urls(canary_referral.pk, **canary_review, **document_ids).values())
    tray = reverse("referrals:tray")
    export = reverse("referrals:export")
    urls += [
        f"{tray}?view=all&q=qzcnryfirsta",
        f"{tray}?view=all&q=QzcnryLastB",
        f"{tray}?view=all&school={school.pk}",
        f"{export}?q=qzcnry",
        f"{export}?school={school.pk}",
        export,
    ]
    before = AccessLogEntry.objects.count()
    case_pages = {
        reverse(name, args=[canary_referral.pk]) for name in ("referrals:detail", "referrals:history")
    } | {export}
    for url in urls:
        response = client.get(url)
        body = response_text(response)
        # What the user typed is echoed back, and a random CSRF token is no leak.
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
        for typed in ("qzcnryfirsta", "QzcnryLastB", "qzcnry"):
            body = body.replace(f'value="{typed}"', "").replace(f"q={typed}", "")
        assert not leaks(body), (role, url, leaks(body))
        if url in case_pages or url.startswith(export):
            assert "Leakcheck" not in body, (role, url)
            assert "LEAK0001" not in body, (role, url)
    # A name or school search neither matches nor counts the record.
    response = client.get(f"{tray}?view=all&q=qzcnryfirsta")
    if response.status_code == 200:
        assert canary_referral.reference not in response.content.decode()
    assert not leaks(caplog.text), caplog.text[-2000:]
    # Nothing exempt was read. One exception, by design (docs/adr/0023): information governance
    # reads a subject access request's own record (who asked, how they proved it) by its role,
    # and that read is logged against the request, never against a case.
    after = AccessLogEntry.objects.exclude(record_type="records.subjectaccessrequest")
    assert after.count() == before
    if role != Role.INFORMATION_GOVERNANCE:
        assert AccessLogEntry.objects.count() == before


def test_the_mash_team_reads_a_closed_referral_without_a_grant_and_each_read_is_logged(
    client, role_user, canary_referral
):
    """History checks: once the restriction is lifted, a closed referral's identities are the
    MASH team's to read (not change), and each read is logged."""
    manager = role_user(Role.MASH_MANAGER, username="lifter")
    services.referral_lift_restriction(
        user=manager,
        referral_id=canary_referral.pk,
        expected_version=canary_referral.version,
        reason="Checked with information governance today",
    )
    for role in (Role.MASH_PRACTITIONER, Role.MASH_MANAGER):
        reader = role_user(role)
        sign_in_verified(client, reader)
        before = AccessLogEntry.objects.filter(user=reader).count()
        body = client.get(reverse("referrals:detail", args=[canary_referral.pk])).content.decode()
        assert leaks(body)
        assert AccessLogEntry.objects.filter(user=reader).count() == before + 1
        assert client.get(reverse("referrals:edit", args=[canary_referral.pk])).status_code == 404
    for role in (Role.REVIEWER, Role.LEAD_REVIEWER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE):
        sign_in_verified(client, role_user(role))
        response = client.get(reverse("referrals:detail", args=[canary_referral.pk]))
        assert not leaks(response.content.decode())


def test_a_grant_holder_sees_the_canary_and_each_read_is_logged_once(
    client, role_user, canary_referral, caplog
):
    manager = role_user(Role.MASH_MANAGER, username="grantor")
    reader = role_user(Role.MASH_PRACTITIONER, username="reader")
    services.referral_grant(
        granted_by=manager,
        referral_id=canary_referral.pk,
        user=reader,
        actions=[permissions.VIEW_EXEMPT],
        reason="Allocated to the reader for follow-up",
    )
    sign_in_verified(client, reader)
    caplog.set_level(logging.DEBUG)
    pages = [
        reverse("referrals:detail", args=[canary_referral.pk]),
        reverse("referrals:history", args=[canary_referral.pk]),
        f"{reverse('referrals:export')}?q={canary_referral.reference}",
    ]
    for url in pages:
        before = AccessLogEntry.objects.count()
        response = client.get(url)
        assert response.status_code == 200, url
        assert CANARY in response.content.decode().lower(), url
        assert AccessLogEntry.objects.count() == before + 1, url
        entry = AccessLogEntry.objects.select_related("user").order_by("id").last()
        assert entry.user == reader
        assert entry.record_label == canary_referral.reference
        assert entry.ip_address == "127.0.0.1"
    # A name search now finds it, and the log lines still carry nothing exempt.
    response = client.get(f"{reverse('referrals:tray')}?view=all&q=qzcnryfirsta")
    assert canary_referral.reference in response.content.decode()
    assert not leaks(caplog.text)


def test_without_two_factor_a_grant_holder_sees_nothing_exempt(client, role_user, canary_referral):
    manager = role_user(Role.MASH_MANAGER, username="grantor")
    reader = role_user(Role.MASH_PRACTITIONER, username="reader")
    services.referral_grant(
        granted_by=manager,
        referral_id=canary_referral.pk,
        user=reader,
        actions=[permissions.VIEW_EXEMPT],
        reason="Allocated to the reader for follow-up",
    )
    client.force_login(reader)  # password only: not verified, and no authenticator yet
    detail = reverse("referrals:detail", args=[canary_referral.pk])
    response = client.get(detail)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:two_factor_setup"))
    setup = client.get(response["Location"])
    assert setup.status_code == 200
    assert not leaks(response.content.decode() + setup.content.decode())
    assert "two-factor" in setup.content.decode().lower()
    # With an authenticator but no code entered in this session: sent to enter it.
    TOTPDevice.objects.create(user=reader, name="phone", confirmed=True)
    response = client.get(detail)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:verify"))
    assert not leaks(client.get(response["Location"]).content.decode())
    assert AccessLogEntry.objects.count() == 0


def test_the_error_page_carries_nothing_from_the_failed_request(
    client, role_user, canary_referral, monkeypatch
):
    from referrals import selectors

    def explode(**kwargs):
        raise RuntimeError("failure while handling the case")

    monkeypatch.setattr(selectors, "referral_view", explode)
    sign_in_verified(client, role_user(Role.MASH_MANAGER))
    client.raise_request_exception = False
    response = client.get(reverse("referrals:detail", args=[canary_referral.pk]))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Sorry, there is a problem with the service" in body
    assert canary_referral.reference not in body
    assert not leaks(body)


def test_the_reviews_own_lead_without_a_grant_meets_no_canary(client, canary_referral, canary_review):
    from django.contrib.auth import get_user_model

    lead = get_user_model().objects.get(username="canary-lead")
    sign_in_verified(client, lead)
    for url in app_urls(canary_referral.pk, **canary_review).values():
        response = client.get(url)
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response_text(response))
        assert not leaks(body), (url, leaks(body))
    page = client.get(reverse("reviews:assessment", args=[canary_review["assessment_pk"]]))
    assert page.status_code == 200  # the lead opens the assessment, without the free text


def test_a_report_grant_holder_sees_the_exempt_appendices_and_each_read_is_logged(
    client, role_user, canary_referral, canary_review, caplog
):
    from scrutiny import services as scrutiny_services
    from scrutiny.models import Appendix, CabinetReport

    report = CabinetReport.objects.get(pk=canary_review["report_pk"])
    officer = role_user(Role.REPORT_OFFICER, username="reader-officer")
    exempt = list(report.appendices.filter(exempt=True).order_by("number"))
    assert [a.kind for a in exempt] == [Appendix.Kind.TEXT, Appendix.Kind.EXEMPT_CASE_LIST]
    pages = [reverse("scrutiny:appendix", args=[a.pk]) for a in exempt]
    pages.append(reverse("scrutiny:appendix_edit", args=[exempt[0].pk]))

    # Without a grant: the notice, never the content, nothing logged (the edit page is a 404).
    sign_in_verified(client, officer)
    before = AccessLogEntry.objects.count()
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert not leaks(response.content.decode()), url
    assert "exempt from publication by virtue of paragraph 2" in client.get(pages[0]).content.decode()
    assert AccessLogEntry.objects.count() == before

    scrutiny_services.report_grant(
        granted_by=role_user(Role.INFORMATION_GOVERNANCE, username="ig-grantor"),
        report_id=report.pk,
        user=officer,
        reason="Presenting officer for the cabinet meeting",
    )
    # With a grant but a password-only session: still nothing.
    client.logout()
    client.force_login(officer)
    assert not leaks(client.get(pages[0]).content.decode())
    assert AccessLogEntry.objects.count() == before

    sign_in_verified(client, officer)
    caplog.set_level(logging.DEBUG)
    for url in pages:
        last_id = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = client.get(url)
        assert response.status_code == 200, url
        assert CANARY in response.content.decode().lower(), url
        new = list(
            AccessLogEntry.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("user_id", "record_type", "record_id")
        )
        # The report, and for the case list each referral in it (the canary's).
        expected = [(officer.pk, "scrutiny.cabinetreport", report.pk)]
        if url == pages[1]:
            expected.append((officer.pk, "referrals.referral", canary_referral.pk))
        assert new == expected, url
    # The history shows the exempt appendix's changed text to the grant holder only, logged.
    before = AccessLogEntry.objects.count()
    history = client.get(reverse("scrutiny:report_history", args=[report.pk])).content.decode()
    assert CANARY in history.lower()
    assert AccessLogEntry.objects.count() == before + 1
    # The report page and the tracker export never carry exempt content, even for a holder.
    for url in (reverse("scrutiny:report", args=[report.pk]), reverse("scrutiny:export")):
        assert not leaks(client.get(url).content.decode()), url
    assert not leaks(caplog.text)


def test_reading_a_cabinet_papers_case_list_is_logged_against_each_referral_in_it(
    client, role_user, canary_review, canary_referral, django_capture_on_commit_callbacks, settings, tmp_path
):
    """Appendix 2 names the children of every case in the review: a read of it, on the page or
    in the exempt pack, shows in each of those referrals' access logs, not only the report's."""
    from core.models import ExportJob
    from scrutiny import services as scrutiny_services
    from scrutiny.models import Appendix

    settings.MEDIA_ROOT = str(tmp_path / "media")
    ids = canary_review  # the review's ids, with a cabinet report whose Appendix lists its cases
    case_list = Appendix.objects.get(report_id=ids["report_pk"], kind=Appendix.Kind.EXEMPT_CASE_LIST)
    clerk = role_user(Role.REPORT_OFFICER, username="clerk")
    scrutiny_services.report_grant(
        granted_by=role_user(Role.INFORMATION_GOVERNANCE, username="ig-grantor"),
        report_id=ids["report_pk"],
        user=clerk,
        reason="Clerk to the cabinet meeting",
    )
    sign_in_verified(client, clerk)

    def logged_against_the_referral(channel):
        return list(
            AccessLogEntry.objects.filter(
                record_type="referrals.referral", record_id=canary_referral.pk, channel=channel, user=clerk
            ).values_list("record_label", "fields")
        )

    response = client.get(reverse("scrutiny:appendix", args=[case_list.pk]))
    assert response.status_code == 200
    assert "qzcnryfirsta" in response.content.decode().lower()
    assert logged_against_the_referral("page") == [
        (canary_referral.reference, [f"cabinet report {ids['report_pk']} appendix {case_list.number}"])
    ]

    exports = reverse("documents:exports", args=["cabinet_report_version", ids["report_version_pk"]])

    @unit_of_work  # the request and the task it queues; in production each is its own unit
    def export(variant):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(exports, {"variant": variant}).status_code == 302

    export("exempt")
    job = ExportJob.objects.get(variant="exempt")
    assert job.status == ExportJob.Status.DONE, job.message
    assert job.exempt_records == [
        ["scrutiny.cabinetreport", ids["report_pk"], f"Cabinet report {ids['report_pk']}"],
        ["referrals.referral", canary_referral.pk, canary_referral.reference],
    ]
    # The review drops the case after the papers were published: the version (and its pack)
    # still names its children, so its download is still logged against the referral (as
    # published, not as it is now).
    from reviews.models import ScreeningDecision

    ScreeningDecision.objects.filter(referral=canary_referral).update(
        decision=ScreeningDecision.Decision.EXCLUDE
    )
    download = client.get(reverse("documents:download", args=[job.pk]))
    assert download.status_code == 200
    b"".join(download.streaming_content)
    [(label, fields)] = logged_against_the_referral("pdf")
    assert label == canary_referral.reference
    assert fields[0].startswith("Exempt pack (PDF)")
    # The public pack holds no case: its download logs nothing.
    before = AccessLogEntry.objects.count()
    export("public")
    public = ExportJob.objects.get(variant="public")
    b"".join(client.get(reverse("documents:download", args=[public.pk])).streaming_content)
    assert AccessLogEntry.objects.count() == before
