"""Export jobs: asking, reuse, one active job, the worker's idempotent run, pages, downloads,
the access log, and cleaning up old packs. Celery runs eagerly here; tests/test_packs_worker.py
runs a real worker."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from unittest import mock

import pytest
from django.core.checks import run_checks
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from zeal import zeal_ignore

from core import permissions
from core.documents import services
from core.documents.rendering import PackError, render_pack_document
from core.models import AccessLogEntry, ExportJob, ExportJobEvent
from core.roles import Role
from tests.conftest import sign_in_verified
from tests.core.pdf_helpers import pdf_text
from tests.documents_kind import KIND
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

Status = ExportJob.Status
CANARY = "Qzcnrychild"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def referral():
    referral = ReferralFactory()
    child = referral.children.first().child
    child.first_name = CANARY
    child.save()
    return referral


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def grant_holder(role_user, referral):
    user = role_user(Role.REPORT_OFFICER, username="holder")
    permissions.grant(referral, action=permissions.VIEW_EXEMPT, reason="Writing the report", user=user)
    return user


def _request(user, referral, variant="public", run=True, capture=None):
    if capture is None:
        return services.export_job_request(user=user, kind=KIND, object_id=referral.pk, variant=variant)
    with capture(execute=run):
        return services.export_job_request(user=user, kind=KIND, object_id=referral.pk, variant=variant)


def _events(job) -> list[str]:
    return list(job.events.values_list("event", flat=True))


def _bump(referral):
    # The test kind's digest follows the referral's version (what a real edit changes).
    type(referral).objects.filter(pk=referral.pk).update(version=F("version") + 1)
    referral.refresh_from_db()


# --- Asking for a pack ---------------------------------------------------------------------


def test_an_export_runs_on_commit_and_stores_a_checksummed_pack(
    officer, referral, django_capture_on_commit_callbacks, media
):
    job, created = _request(officer, referral, capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert created
    assert job.status == Status.DONE
    assert job.progress == 100
    data = (media / job.file.name).read_bytes()
    assert job.checksum == hashlib.sha256(data).hexdigest()
    assert job.size == len(data)
    assert job.pages >= 2
    digest = job.source_digest[:16]
    assert job.file.name == f"packs/{KIND}/{referral.pk}/export-{job.pk}-public-{digest}-a1.pdf"
    assert _events(job) == ["requested", "started", "done"]
    assert CANARY.lower() not in pdf_text(data).lower()


def test_the_task_is_queued_with_the_job_id_only(officer, referral, django_capture_on_commit_callbacks):
    from core.tasks import render_export_job

    with mock.patch.object(render_export_job, "apply_async") as publish:
        job, _ = _request(officer, referral, capture=django_capture_on_commit_callbacks)
    publish.assert_called_once()
    assert publish.call_args.kwargs["args"] == [job.pk]
    assert render_export_job.acks_late is True
    assert render_export_job.reject_on_worker_lost is True


def test_the_job_is_queued_through_the_outbox(officer, referral, django_capture_on_commit_callbacks):
    """ADR 0013: the request writes the job and its outbox message in one transaction, so a
    broker that goes away after the check loses nothing (beat's flush publishes it later)."""
    from core.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=False):
        job, created = services.export_job_request(
            user=officer, kind=KIND, object_id=referral.pk, variant="public"
        )
    assert created
    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.sent_at) == ("core.tasks.render_export_job", [job.pk], None)
    # The sweep's republication goes the same way, marked as the sweep's.
    _age(job, requested=10_000)
    with django_capture_on_commit_callbacks(execute=False):
        assert services.export_jobs_requeue() == [job.pk]
    again = OutboxMessage.objects.exclude(pk=message.pk).get()
    assert (again.task, again.args) == ("core.tasks.render_export_job", [job.pk, 1])


def test_nothing_is_queued_if_the_transaction_rolls_back(
    officer, referral, django_capture_on_commit_callbacks
):
    from core.tasks import render_export_job

    with (
        mock.patch.object(render_export_job, "apply_async") as publish,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        services.export_job_request(user=officer, kind=KIND, object_id=referral.pk, variant="public")
        transaction.set_rollback(True)
    publish.assert_not_called()
    assert not ExportJob.objects.exists()


def test_the_same_inputs_reuse_the_finished_pack_and_a_change_makes_a_new_one(
    officer, referral, django_capture_on_commit_callbacks
):
    first, _ = _request(officer, referral, capture=django_capture_on_commit_callbacks)
    again, created = _request(officer, referral, capture=django_capture_on_commit_callbacks)
    assert (again.pk, created) == (first.pk, False)
    _bump(referral)
    changed, created = _request(officer, referral, capture=django_capture_on_commit_callbacks)
    assert created
    assert changed.pk != first.pk
    assert changed.source_digest != first.source_digest


def test_asking_twice_while_queued_returns_the_same_job(
    officer, referral, django_capture_on_commit_callbacks
):
    first, created = _request(officer, referral, run=False, capture=django_capture_on_commit_callbacks)
    second, created_again = _request(officer, referral, run=False, capture=django_capture_on_commit_callbacks)
    assert created
    assert not created_again
    assert second.pk == first.pk
    assert ExportJob.objects.count() == 1


def test_the_database_allows_one_active_job_per_inputs(officer, referral):
    fields = {
        "kind": KIND,
        "object_id": referral.pk,
        "variant": "public",
        "source_digest": "a" * 64,
        "title": "T",
        "requested_by": officer,
    }
    ExportJob.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(**fields, status=Status.RUNNING)
    ExportJob.objects.create(**fields, status=Status.DONE)  # finished ones may repeat
    ExportJob.objects.create(**{**fields, "variant": "exempt"})


def test_only_grant_holders_may_ask_for_the_exempt_pack(officer, grant_holder, referral):
    with pytest.raises(PermissionDenied):
        _request(officer, referral, variant="exempt")
    # A grant without a two-factor session is not enough either (can_see_exempt).
    with pytest.raises(PermissionDenied):
        _request(grant_holder, referral, variant="exempt")


def test_other_roles_may_not_export(role_user, referral):
    with pytest.raises(PermissionDenied):
        _request(role_user(Role.MASH_MANAGER), referral)


# --- The worker's run ----------------------------------------------------------------------


def _queued(officer, referral, variant="public") -> ExportJob:
    job, _ = services.export_job_request(user=officer, kind=KIND, object_id=referral.pk, variant=variant)
    return job


def test_a_finished_job_is_not_rendered_again(officer, referral):
    job = _queued(officer, referral)
    services.export_job_run(job_id=job.pk)
    with mock.patch("core.documents.services.render_pack_document") as render:
        services.export_job_run(job_id=job.pk)
    render.assert_not_called()
    assert _events(ExportJob.objects.get(pk=job.pk)).count("done") == 1


def test_a_job_whose_worker_died_is_finished_exactly_once(officer, referral, media):
    job = _queued(officer, referral)
    # The first worker marked it running and wrote the file, then died before marking it done.
    ExportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, attempts=1, progress=60)
    half = media / services.pack_file_name(job, job.source_digest, 1)
    half.parent.mkdir(parents=True, exist_ok=True)
    half.write_bytes(b"half written")
    services.export_job_run(job_id=job.pk)
    services.export_job_run(job_id=job.pk)  # and a duplicate delivery changes nothing
    job.refresh_from_db()
    name = services.pack_file_name(job, job.source_digest, 2)
    assert job.status == Status.DONE
    assert job.attempts == 2
    assert job.file.name == name
    assert (media / name).read_bytes().startswith(b"%PDF")
    assert list(half.parent.iterdir()) == [media / name]  # the dead worker's file is gone
    assert _events(job) == ["requested", "restarted", "done"]


def test_two_deliveries_running_at_once_finish_the_job_once_with_one_file(officer, referral, media):
    job = _queued(officer, referral)
    real_render = render_pack_document
    calls = []

    def render_while_another_delivery_runs(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            # A second delivery of the same job starts and finishes while the first renders.
            services.export_job_run(job_id=job.pk)
        return real_render(**kwargs)

    with (
        mock.patch(
            "core.documents.services.render_pack_document", side_effect=render_while_another_delivery_runs
        ),
        zeal_ignore(),  # two workers' reads of one job, simulated in one thread
    ):
        services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert len(calls) == 2
    assert job.status == Status.DONE
    assert job.file.name == services.pack_file_name(job, job.source_digest, 2)
    assert _events(job) == ["requested", "started", "restarted", "done"]
    folder = (media / job.file.name).parent
    assert list(folder.iterdir()) == [media / job.file.name]  # the first delivery removed its own


def _age(job, *, requested=None, started=None, status=None):
    now = timezone.now()
    changes = {}
    if requested is not None:
        changes["requested_at"] = now - dt.timedelta(seconds=requested)
    if started is not None:
        changes["started_at"] = now - dt.timedelta(seconds=started)
    if status is not None:
        changes["status"] = status
    ExportJob.objects.filter(pk=job.pk).update(**changes)


def test_a_job_the_queue_lost_is_published_again_and_finished_once(
    officer, referral, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_REQUEUE_AFTER = 600
    lost = _queued(officer, referral)
    _age(lost, requested=601)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.export_jobs_requeue() == [lost.pk]  # published again; the eager worker runs it
    lost.refresh_from_db()
    assert lost.status == Status.DONE
    assert _events(lost) == ["requested", "republished", "started", "done"]
    assert services.export_jobs_requeue() == []  # finished: left alone


def test_only_jobs_no_worker_can_still_be_on_are_published_again(
    officer, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_REQUEUE_AFTER = 600
    settings.CELERY_TASK_TIME_LIMIT = 900
    jobs = {}
    for label in ("fresh", "waiting", "running", "overrun", "republished"):
        referral = ReferralFactory()
        jobs[label] = _queued(officer, referral)
    _age(jobs["fresh"], requested=60)
    _age(jobs["waiting"], requested=601)
    _age(jobs["running"], requested=2000, started=900, status=Status.RUNNING)  # inside the limit
    _age(jobs["overrun"], requested=3000, started=1501, status=Status.RUNNING)  # limit + wait passed
    _age(jobs["republished"], requested=5000)
    ExportJobEvent.objects.create(
        job=jobs["republished"],
        event=ExportJobEvent.Event.REPUBLISHED,
        at=timezone.now() - dt.timedelta(seconds=60),
    )
    with (
        mock.patch("core.documents.services._enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        requeued = services.export_jobs_requeue()
    assert sorted(requeued) == sorted([jobs["waiting"].pk, jobs["overrun"].pk])
    assert sorted(call.args[0] for call in enqueue.call_args_list) == sorted(requeued)
    assert all(call.kwargs == {"republished": True} for call in enqueue.call_args_list)


def test_with_the_broker_down_nothing_is_published_again_or_changed(officer, referral, monkeypatch):
    lost = _queued(officer, referral)
    _age(lost, requested=10_000)

    def down():
        raise services.ExportsUnavailable

    monkeypatch.setattr(services, "_broker_ready", down)
    assert services.export_jobs_requeue() == []
    assert _events(lost) == ["requested"]


def test_bad_inputs_fail_with_a_message_a_person_understands(officer, referral):
    job = _queued(officer, referral)
    with mock.patch(
        "core.documents.services.render_pack_document",
        side_effect=PackError("The uploaded file for “Appendix 4” is not a PDF that can be read."),
    ):
        services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.message == "The uploaded file for “Appendix 4” is not a PDF that can be read."
    assert not job.file


def test_a_source_that_changed_after_the_request_fails_the_job(officer, referral):
    job = _queued(officer, referral)
    _bump(referral)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "changed after this export was asked for. Export it again" in job.message


def test_a_transient_failure_is_retried_and_then_fails_cleanly(officer, referral):
    from django.db import OperationalError

    from core.tasks import TRANSIENT_ERRORS, render_export_job

    assert OperationalError in TRANSIENT_ERRORS
    assert render_export_job.autoretry_for == TRANSIENT_ERRORS
    assert render_export_job.retry_backoff
    job = _queued(officer, referral)
    with mock.patch("core.documents.services.export_job_run", side_effect=OperationalError("gone")):
        result = render_export_job.apply(args=[job.pk], retries=render_export_job.max_retries, throw=False)
    assert result.failed()
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.message == services.GAVE_UP
    assert "retrying" in _events(job)


def test_an_unexpected_error_fails_the_job_without_logging_its_message(officer, referral, caplog):
    from core.tasks import render_export_job

    job = _queued(officer, referral)
    with mock.patch("core.documents.services.render_pack_document", side_effect=ValueError(CANARY)):
        render_export_job.apply(args=[job.pk], throw=False)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.message == services.UNEXPECTED
    assert "ValueError" in caplog.text
    assert CANARY not in caplog.text


def test_progress_is_written_while_rendering(officer, referral):
    job = _queued(officer, referral)
    seen = []

    def spy(**kwargs):
        def progress(percent):
            kwargs["progress"].__class__.__call__(kwargs["progress"], percent)
            with zeal_ignore():  # the test's own polling, once per step
                seen.append(ExportJob.objects.get(pk=job.pk).progress)

        return render_pack_document(**{**kwargs, "progress": progress})

    with mock.patch("core.documents.services.render_pack_document", side_effect=spy):
        services.export_job_run(job_id=job.pk)
    assert 0 < max(seen) < 100
    assert seen == sorted(seen)


# --- Housekeeping --------------------------------------------------------------------------


def test_old_packs_are_removed_on_schedule_and_recent_ones_kept(officer, referral, settings, media):
    from core.tasks import clean_up_export_packs

    settings.EXPORT_PACKS_KEEP_DAYS = 30
    assert (
        settings.CELERY_BEAT_SCHEDULE["clean-up-export-packs"]["task"] == "core.tasks.clean_up_export_packs"
    )
    old = _queued(officer, referral)
    services.export_job_run(job_id=old.pk)
    _bump(referral)
    recent = _queued(officer, referral)
    services.export_job_run(job_id=recent.pk)
    ExportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=31))
    old.refresh_from_db()
    old_file = media / old.file.name
    assert old_file.exists()
    assert clean_up_export_packs.apply().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Status.REMOVED
    assert not old.file
    assert not old_file.exists()
    assert _events(old)[-1] == "removed"
    assert recent.status == Status.DONE
    assert (media / recent.file.name).exists()
    # A removed pack is not reused: asking again makes a new one.
    ExportJob.objects.filter(pk=recent.pk).update(finished_at=timezone.now() - dt.timedelta(days=31))
    services.export_packs_clean_up()
    assert _queued(officer, referral).pk != recent.pk


def test_jobs_that_never_finished_are_failed_by_the_sweep(officer, referral, settings):
    job = _queued(officer, referral)
    ExportJob.objects.filter(pk=job.pk).update(
        requested_at=timezone.now() - dt.timedelta(seconds=3 * settings.CELERY_VISIBILITY_TIMEOUT)
    )
    services.export_packs_clean_up()
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.message == services.STALLED


def test_the_trail_is_append_only(officer, referral):
    from core.models import AppendOnlyError

    job = _queued(officer, referral)
    event = job.events.get()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ExportJobEvent.objects.all().delete()


def test_time_limits_must_end_before_the_visibility_timeout(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    settings.CELERY_TASK_TIME_LIMIT = 900
    assert "core.E001" in {message.id for message in run_checks()}
    settings.CELERY_TASK_TIME_LIMIT = 500
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 440
    assert not {message.id for message in run_checks()} & {"core.E001", "core.E002"}


def test_production_and_base_settings_agree_on_time_limits():
    from config.settings import base

    assert base.CELERY_TASK_SOFT_TIME_LIMIT < base.CELERY_TASK_TIME_LIMIT < base.CELERY_VISIBILITY_TIMEOUT
    assert base.redis_transport_options(base.CELERY_VISIBILITY_TIMEOUT)["visibility_timeout"] == 3600
    assert base.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert base.CELERY_WORKER_MAX_MEMORY_PER_CHILD > 0


# --- Pages ---------------------------------------------------------------------------------


def test_the_exports_page_offers_the_exempt_pack_only_to_grant_holders(
    client, officer, grant_holder, referral
):
    url = reverse("documents:exports", args=[KIND, referral.pk])
    sign_in_verified(client, officer)
    body = client.get(url).content.decode()
    assert "Export the public pack" in body
    assert "Export the exempt pack" not in body
    assert client.post(url, {"variant": "exempt"}).status_code == 404
    assert not ExportJob.objects.exists()
    sign_in_verified(client, grant_holder)
    assert "Export the exempt pack" in client.get(url).content.decode()


def test_other_roles_and_unknown_kinds_get_404(client, role_user, referral):
    sign_in_verified(client, role_user(Role.MASH_MANAGER))
    assert client.get(reverse("documents:exports", args=[KIND, referral.pk])).status_code == 404
    sign_in_verified(client, role_user(Role.REPORT_OFFICER))
    assert client.get(reverse("documents:exports", args=["no_such_kind", referral.pk])).status_code == 404
    assert client.get(reverse("documents:exports", args=[KIND, 999999])).status_code == 404


def test_a_missing_choice_gets_an_error_summary_and_changes_nothing(client, officer, referral):
    sign_in_verified(client, officer)
    response = client.post(reverse("documents:exports", args=[KIND, referral.pk]), {"variant": "nonsense"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Select which pack to export" in body
    assert not ExportJob.objects.exists()


def test_export_progress_and_download_as_pages(client, officer, referral, django_capture_on_commit_callbacks):
    sign_in_verified(client, officer)
    url = reverse("documents:exports", args=[KIND, referral.pk])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"variant": "public"})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("documents:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    # Without JavaScript the page refreshes itself; with it, a script polls the status.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert 'src="/static/js/export-progress.mjs"' in page
    assert '<progress class="app-progress" id="export-progress-bar" max="100" value="0">' in page
    assert "Waiting its turn: it starts as soon as the packs asked for before it are made." in page
    status = client.get(reverse("documents:job_status", args=[job.pk])).json()
    assert status == {
        "status": "queued",
        "status_label": "Waiting to start",
        "progress": 0,
        "progress_words": "Waiting its turn: it starts as soon as the packs asked for before it are made.",
        "finished": False,
        "message": "",
    }
    assert client.get(reverse("documents:download", args=[job.pk])).status_code == 404  # not ready
    services.export_job_run(job_id=job.pk)
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "The pack is ready" in page
    job.refresh_from_db()
    assert job.checksum in page
    download = client.get(reverse("documents:download", args=[job.pk]))
    body = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Checksum-SHA256"] == hashlib.sha256(body).hexdigest() == job.checksum
    assert AccessLogEntry.objects.count() == 0  # the public pack is not exempt data
    assert _events(job)[-1] == "downloaded"


def test_the_exempt_pack_downloads_only_for_grant_holders_and_each_download_is_logged(
    client, officer, grant_holder, role_user, referral, django_capture_on_commit_callbacks
):
    sign_in_verified(client, grant_holder)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("documents:exports", args=[KIND, referral.pk]), {"variant": "exempt"})
    job = ExportJob.objects.get(variant="exempt")
    assert job.status == Status.DONE
    services.export_job_run(job_id=job.pk)
    urls = [
        reverse(name, args=[job.pk])
        for name in ("documents:job", "documents:job_status", "documents:download")
    ]
    for user in (officer, role_user(Role.MASH_MANAGER), role_user(Role.INFORMATION_GOVERNANCE)):
        sign_in_verified(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    assert AccessLogEntry.objects.count() == 0
    sign_in_verified(client, grant_holder)
    for _ in range(2):
        download = client.get(urls[2])
        assert download.status_code == 200
        assert CANARY in pdf_text(b"".join(download.streaming_content))
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert len(entries) == 2
    assert {(e.user_id, e.record_type, e.record_id, e.channel) for e in entries} == {
        (grant_holder.pk, "referrals.referral", referral.pk, "pdf")
    }
    assert f"export {job.pk}" in entries[0].reason
    # When the grant goes, so does the download.
    permissions.revoke_user_kind(
        referral, user=grant_holder, kind=permissions.GrantKind.EXPLICIT, revoked_by=None, reason="done"
    )
    assert client.get(urls[2]).status_code == 404


def test_with_the_broker_down_the_page_says_so_and_nothing_is_made(client, officer, referral):
    sign_in_verified(client, officer)
    with mock.patch("core.documents.services._broker_ready", side_effect=services.ExportsUnavailable):
        response = client.post(reverse("documents:exports", args=[KIND, referral.pk]), {"variant": "public"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Exports are unavailable at the moment" in body
    assert not ExportJob.objects.exists()


def test_an_attempt_that_was_overtaken_cannot_fail_the_job(officer, referral):
    job = _queued(officer, referral)
    ExportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, attempts=2)
    services.export_job_fail(job_id=job.pk, message=services.TOO_LONG, attempt=1)  # the older one
    assert ExportJob.objects.get(pk=job.pk).status == Status.RUNNING
    services.export_job_fail(job_id=job.pk, message=services.TOO_LONG, attempt=2)
    assert ExportJob.objects.get(pk=job.pk).status == Status.FAILED


def test_a_failed_job_leaves_no_file_behind(officer, referral, media):
    job = _queued(officer, referral)
    ExportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, attempts=2)
    left = [media / services.pack_file_name(job, job.source_digest, n) for n in (1, 2)]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF- an exempt pack half made")
    services.export_job_fail(job_id=job.pk, message=services.STALLED)
    assert not any(path.exists() for path in left)


def test_the_sweeps_message_leaves_alone_a_job_a_worker_may_still_be_making(officer, referral, settings):
    settings.CELERY_TASK_TIME_LIMIT = 900
    job = _queued(officer, referral)
    _age(job, started=60, status=Status.RUNNING)
    ExportJob.objects.filter(pk=job.pk).update(attempts=1)
    with mock.patch("core.documents.services.render_pack_document") as render:
        services.export_job_run(job_id=job.pk, republished=True)
    render.assert_not_called()
    assert ExportJob.objects.get(pk=job.pk).attempts == 1
    # Past the hard limit no worker can be on it: the sweep's message makes it.
    _age(job, started=901)
    services.export_job_run(job_id=job.pk, republished=True)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Status.DONE, 2)


def test_a_job_that_outlives_the_limit_every_time_is_failed_not_tried_for_ever(officer, referral, settings):
    settings.EXPORT_REQUEUE_AFTER = 600
    settings.CELERY_TASK_TIME_LIMIT = 900
    job = _queued(officer, referral)
    _age(job, requested=10_000, started=2000, status=Status.RUNNING)
    ExportJob.objects.filter(pk=job.pk).update(attempts=services.MAX_ATTEMPTS)
    with mock.patch("core.documents.services._enqueue") as enqueue:
        assert services.export_jobs_requeue() == []
    enqueue.assert_not_called()
    job.refresh_from_db()
    assert (job.status, job.message) == (Status.FAILED, services.TOO_LONG)


@pytest.mark.parametrize(
    ("status", "progress", "words"),
    [
        ("queued", 0, "Waiting its turn: it starts as soon as the packs asked for before it are made."),
        ("running", 0, "Started: gathering the papers."),
        ("running", 24, "Started: gathering the papers."),
        ("running", 25, "About a quarter made."),
        ("running", 60, "About half made."),
        ("running", 99, "Nearly ready: putting the pages together."),
        ("done", 100, "Ready"),
    ],
)
def test_progress_reads_as_a_person_would_say_it(status, progress, words):
    assert ExportJob(status=status, progress=progress).progress_words == words
