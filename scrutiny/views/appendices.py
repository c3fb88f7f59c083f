"""A cabinet report's appendices, exempt ones shown only to grant holders in a verified session."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View

from core.access_log import record_access, record_access_many
from core.exempt import shown_fields
from core.models import AccessLogEntry
from scrutiny import extensions, forms, selectors, services
from scrutiny.models import Appendix
from scrutiny.permissions import (
    ReadersMixin,
    can_manage,
    can_see_exempt_appendices,
)
from scrutiny.views.common import VersionedFormView
from scrutiny.views.reports import ReportMixin, print_preview


def _appendix_input(data: dict) -> services.AppendixInput:
    return services.AppendixInput(
        kind=data["kind"],
        title=data["title"],
        exempt=data["exempt"],
        schedule_12a_paragraph=data["schedule_12a_paragraph"],
        public_interest=data["public_interest"],
        review=data["review"],
        text=data["text"],
        upload=data["upload"],
        guidance_version=data.get("guidance_version"),
    )


class AppendixAddView(ReportMixin, VersionedFormView):
    form_class = forms.AppendixForm
    title = "Add an appendix"
    multipart = True

    def back(self):
        return self.report_url

    def initial(self):
        return {"version": self.report.version}

    def save(self, data):
        appendix = services.appendix_add(
            user=self.request.user,
            report_id=self.report.pk,
            expected_version=data["version"],
            data=_appendix_input(data),
        )
        messages.success(self.request, f"Appendix {appendix.number} added")
        return redirect(self.back())


class AppendixMixin:
    @cached_property
    def appendix(self) -> Appendix:
        return get_object_or_404(
            Appendix.objects.select_related("report__meeting__committee", "review"),
            pk=self.kwargs["appendix_pk"],
        )

    @property
    def appendix_url(self) -> str:
        return reverse("scrutiny:appendix", args=[self.appendix.pk])

    def may_see_content(self) -> bool:
        return not self.appendix.exempt or can_see_exempt_appendices(self.request.user, self.appendix.report)

    def log_read(self, channel=AccessLogEntry.Channel.PAGE, fields=()) -> None:
        """``fields``: the exempt fields the page showed (``Model.field``), after the appendix."""
        if self.appendix.exempt:
            record_access(
                request=self.request,
                user=self.request.user,
                record=self.appendix.report,
                label=f"Cabinet report {self.appendix.report_id}",
                fields=[f"appendix {self.appendix.number}", *fields],
                channel=channel,
            )
            # And against each referral whose case the appendix shows.
            record_access_many(
                request=self.request,
                user=self.request.user,
                records=selectors.referrals_in_exempt_appendices([self.appendix]),
                fields=[f"cabinet report {self.appendix.report_id} appendix {self.appendix.number}"],
                channel=channel,
            )


class AppendixEditView(AppendixMixin, VersionedFormView):
    """Changing an exempt appendix shows its content, so it needs the grant too."""

    form_class = forms.AppendixForm
    title = "Change the appendix"
    multipart = True

    def back(self):
        return self.appendix_url

    def get(self, request, **kwargs):
        if not self.may_see_content():
            raise Http404("Page not found")
        # The form holds the appendix's text and which review it is made from.
        self.log_read(fields=shown_fields([self.appendix], displayed={Appendix: ["text", "review"]}))
        return super().get(request, **kwargs)

    def post(self, request, **kwargs):
        if not self.may_see_content():
            raise Http404("Page not found")
        return super().post(request, **kwargs)

    def initial(self):
        a = self.appendix
        return {
            "kind": a.kind,
            "title": a.title,
            "review": a.review_id,
            "guidance_version": getattr(extensions.subject(a), "pk", None),
            "text": a.text,
            "exempt": a.exempt,
            "schedule_12a_paragraph": a.schedule_12a_paragraph,
            "public_interest": a.public_interest,
            "version": a.version,
        }

    def save(self, data):
        services.appendix_update(
            user=self.request.user,
            appendix_id=self.appendix.pk,
            expected_version=data["version"],
            data=_appendix_input(data),
        )
        messages.success(self.request, "Appendix saved")
        return redirect(self.back())


class AppendixDetailView(AppendixMixin, ReadersMixin, View):
    """An appendix as the pack will show it. Exempt content: grant holders only, logged."""

    def get(self, request, appendix_pk):
        page = selectors.appendix_page(user=request.user, appendix=self.appendix)
        if page.shown:
            self.log_read(fields=page.shown_fields)
        return render(
            request,
            "scrutiny/appendix_detail.html",
            (page.context or {})  # the body's own context: the pack's template reads it as it is
            | {
                "page": page,
                "appendix": page.appendix,
                "report": page.appendix.report,
                "can_manage": can_manage(request.user),
            },
        )


class AppendixFileView(AppendixMixin, ReadersMixin, View):
    """An uploaded PDF appendix, through a permission check (and the access log if exempt)."""

    def get(self, request, appendix_pk):
        appendix = self.appendix
        if appendix.kind != Appendix.Kind.UPLOADED_PDF or not appendix.file or not self.may_see_content():
            raise Http404("Page not found")
        self.log_read(channel=AccessLogEntry.Channel.PDF, fields=shown_fields([appendix]))
        return FileResponse(
            appendix.file.open("rb"),
            as_attachment=True,
            filename=f"appendix-{appendix.number}.pdf",
            content_type="application/pdf",
        )


class AppendixPreviewView(AppendixMixin, ReadersMixin, View):
    """One appendix as it will print. An exempt one prints in full only for a grant holder
    (logged, as a download of it is); for anyone else it is the public pack's notice page."""

    def get(self, request, appendix_pk):
        appendix = self.appendix
        may_see = self.may_see_content()
        if appendix.exempt and may_see:
            self.log_read(channel=AccessLogEntry.Channel.PDF, fields=shown_fields([appendix]))
        return print_preview(
            request,
            report=appendix.report,
            appendix=appendix,
            may_see_exempt=appendix.exempt and may_see,
            name=f"preview-appendix-{appendix.number}.pdf",
        )
