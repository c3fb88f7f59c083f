"""Export pages: start an export, follow its progress (with or without JavaScript), download."""

from __future__ import annotations

import base64

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from core.documents import selectors, services
from core.documents.forms import ExportForm
from core.models import ExportJob

#: How often the job page reloads itself without JavaScript (seconds).
REFRESH_SECONDS = 3


class ExportsView(LoginRequiredMixin, View):
    """A document's packs: the latest of each, and buttons to export them."""

    template_name = "core/documents/exports.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.kind, self.object_id = kwargs["kind"], kwargs["object_id"]

    def target(self):
        target = selectors.export_target_for(user=self.request.user, kind=self.kind, object_id=self.object_id)
        if target is None:
            raise Http404("Page not found")
        return target

    def get(self, request, kind, object_id):
        return self.render(self.target(), ExportForm())

    def post(self, request, kind, object_id):
        target = self.target()
        form = ExportForm(request.POST)
        if not form.is_valid():
            return self.render(target, form, status=400)
        variant = form.cleaned_data["variant"]
        if variant == ExportJob.Variant.EXEMPT and not target.may_exempt:
            raise Http404("Page not found")
        try:
            job, _ = services.export_job_request(
                user=request.user, kind=kind, object_id=object_id, variant=variant, obj=target.obj
            )
        except PermissionDenied:
            raise Http404("Page not found") from None
        except services.ExportsUnavailable as error:
            return self.render(target, form, unavailable=error.message)
        return redirect("documents:job", pk=job.pk)

    def render(self, target, form, *, status=200, unavailable=""):
        variants = [ExportJob.Variant.PUBLIC] + ([ExportJob.Variant.EXEMPT] if target.may_exempt else [])
        latest = selectors.latest_export_jobs(kind=self.kind, object_id=self.object_id, variants=variants)
        return render(
            self.request,
            self.template_name,
            {
                "title": target.entry.title(target.obj),
                "classification": target.entry.classification(target.obj),
                "kind": self.kind,
                "object_id": self.object_id,
                "rows": [
                    (variant, ExportJob.Variant(variant).label, latest.get(variant)) for variant in variants
                ],
                "form": form,
                "error_forms": [form],
                "unavailable": unavailable,
                "exempt_access": "" if target.may_exempt else target.entry.exempt_access(target.obj),
            },
            status=status,
        )


class _JobMixin(LoginRequiredMixin):
    def job(self, pk):
        found = selectors.export_job_for(user=self.request.user, job_id=pk)
        if found is None:
            raise Http404("Page not found")
        return found


class ExportJobView(_JobMixin, View):
    template_name = "core/documents/export_job.html"

    def get(self, request, pk):
        job, _ = self.job(pk)
        return render(
            request,
            self.template_name,
            {
                "job": job,
                "refresh_seconds": REFRESH_SECONDS if job.is_active else None,
                "exports_url": reverse("documents:exports", args=[job.kind, job.object_id]),
            },
        )


class ExportJobStatusView(_JobMixin, View):
    """The job's state as JSON, for the progress bar's script."""

    def get(self, request, pk):
        job, _ = self.job(pk)
        response = JsonResponse(
            {
                "status": job.status,
                "status_label": job.get_status_display(),
                "progress": job.progress,
                "progress_words": job.progress_words,
                "finished": not job.is_active,
                "message": job.message,
            }
        )
        response["Cache-Control"] = "no-store"
        return response


class ExportDownloadView(_JobMixin, View):
    """The pack as an attachment, with its checksum; exempt downloads go in the access log."""

    def get(self, request, pk):
        job, target = self.job(pk)
        if job.status != ExportJob.Status.DONE or not job.file.name:
            raise Http404("Page not found")
        try:
            handle = default_storage.open(job.file.name, "rb")
        except FileNotFoundError:
            raise Http404("Page not found") from None
        services.export_job_download(request=request, user=request.user, job=job, obj=target.obj)
        response = FileResponse(
            handle, as_attachment=True, filename=job.filename, content_type="application/pdf"
        )
        digest = base64.b64encode(bytes.fromhex(job.checksum)).decode()
        response["Repr-Digest"] = f"sha-256=:{digest}:"
        response["X-Checksum-SHA256"] = job.checksum
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
