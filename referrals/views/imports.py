"""Importing historic referrals from a spreadsheet."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.access_log import record_access_many
from core.exempt import field_labels
from core.models import AccessLogEntry
from referrals.forms import (
    ImportUploadForm,
)
from referrals.imports import selectors as import_selectors
from referrals.imports import services as imports
from referrals.imports.format import ImportRefused, all_columns, child_columns
from referrals.models import ImportBatch
from referrals.permissions import ManagerRequiredMixin
from referrals.selectors import TRAY_SHOWS

# --- Importing historic referrals -------------------------------------------------------------

SAMPLE_IMPORT = Path(__file__).resolve().parent.parent / "fixtures" / "sample_import.csv"
#: Room for the multipart wrapping and the CSRF token around the file itself.
UPLOAD_OVERHEAD = 64 * 1024


class _ImportSizeLimit(FileUploadHandler):
    """Stops storing an upload the moment it passes the limit (a body without a length)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.import_too_big = True
            raise StopUpload(connection_reset=False)  # the rest of the body is read and dropped
        return raw_data

    def file_complete(self, file_size):
        return None


class ImportMixin(ManagerRequiredMixin, LoginRequiredMixin):
    """MASH managers import; to anyone else the pages do not exist."""


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), once the size limit is in place
class ImportUploadView(ImportMixin, View):
    template_name = "referrals/import_upload.html"

    def get(self, request):
        return self.render(self.form())

    def post(self, request):
        limit = imports.max_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + UPLOAD_OVERHEAD:
            # Refused on the declared length: not a byte of the body is read.
            return self.render(self.refused(self.form({}, {}), imports.size_message()), status=400)
        request.upload_handlers.insert(0, _ImportSizeLimit(request, limit))
        return csrf_protect(self.check_file)(request)

    def check_file(self, request):
        form = self.form(request.POST, request.FILES)
        if getattr(request, "import_too_big", False):
            return self.render(self.refused(form, imports.size_message()), status=400)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            batch = imports.referral_import_preview(user=request.user, upload=form.cleaned_data["file"])
        except ImportRefused as refused:
            for message in refused.messages:
                form.add_error("file", message)
            return self.render(form, status=400)
        return HttpResponseRedirect(reverse("referrals:import_preview", args=[batch.pk]))

    def form(self, *args):
        return ImportUploadForm(*args, max_megabytes=imports.max_bytes() // (1024 * 1024))

    @staticmethod
    def refused(form, message: str):
        """A bound form whose only error is ``message`` on the file."""
        form.is_valid()
        form.errors.clear()
        form.errors["file"] = form.error_class([message])
        return form

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "error_forms": [form],
                "batches": import_selectors.recent_import_batches(user=self.request.user),
                # The referral's columns and the first child's; the other children's are alike.
                "columns": all_columns()[: all_columns().index(child_columns(2)[0])],
            },
            status=status,
        )


class ImportSampleView(ImportMixin, View):
    """The synthetic sample file, to show the format."""

    def get(self, request):
        return FileResponse(
            SAMPLE_IMPORT.open("rb"),
            as_attachment=True,
            filename="sample_import.csv",
            content_type="text/csv",
        )


class ImportPreviewView(ImportMixin, View):
    """What importing the checked file would do; the manager imports it or discards it here."""

    template_name = "referrals/import_preview.html"

    @cached_property
    def batch(self) -> ImportBatch:
        try:
            return import_selectors.import_batch_get(user=self.request.user, pk=self.kwargs["pk"])
        except ImportBatch.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, pk):
        return self.render()

    def post(self, request, pk):
        action = request.POST.get("action")
        try:
            if action == "discard":
                imports.referral_import_discard(user=request.user, batch_id=self.batch.pk)
                messages.success(request, "The file was discarded. Nothing was imported")
                return HttpResponseRedirect(reverse("referrals:import"))
            if action != "import":
                raise Http404("Page not found")
            batch = imports.referral_import_apply(user=request.user, batch_id=self.batch.pk)
        except ValidationError as error:
            self.__dict__.pop("batch", None)  # read it again: the service may have changed it
            return self.render(problems=error.messages, status=400)
        done = batch.new_count + batch.changed_count
        messages.success(request, f"{done:,} referral{'s' if done != 1 else ''} imported")
        return HttpResponseRedirect(reverse("referrals:import_preview", args=[batch.pk]))

    def render(self, problems=(), status=200):
        batch = self.batch
        listed = import_selectors.import_batch_rows(user=self.request.user, batch=batch)
        record_access_many(
            request=self.request,
            user=self.request.user,
            records=[(r, r.reference) for r in listed.identified],
            fields=field_labels(TRAY_SHOWS),
            channel=AccessLogEntry.Channel.PAGE,
        )
        return render(
            self.request,
            self.template_name,
            {
                "batch": batch,
                "problems": list(problems),
                "new_rows": listed.new,
                "changed_rows": listed.changed,
                "kept_rows": listed.kept,
                "errors_hidden": batch.error_count - len(batch.errors),
            },
            status=status,
        )
