"""Cabinet reports: drafting, publishing a version, the disclosure check, grants and the decision record."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View

from core import permissions as core_permissions
from core.access_log import record_access
from core.forms import apply_service_errors
from core.history import exempt_fields_shown
from core.models import AccessLogEntry
from scrutiny import forms, packs, selectors, services
from scrutiny.models import CabinetReport, DecisionRecord
from scrutiny.permissions import (
    GrantorsMixin,
    ManagersMixin,
    ReadersMixin,
    can_grant,
    can_manage,
    can_see_exempt_appendices,
)
from scrutiny.views.common import VersionedFormView, conflict_page, form_page

# --- Cabinet reports ----------------------------------------------------------------------------


class ReportListView(ReadersMixin, View):
    def get(self, request):
        reports = CabinetReport.objects.select_related("meeting__committee", "agenda_item").prefetch_related(
            "appendices"
        )
        rows = [(r, selectors.classification(list(r.appendices.all()))) for r in reports]
        return render(
            request, "scrutiny/report_list.html", {"rows": rows, "can_manage": can_manage(request.user)}
        )


class ReportMixin:
    @cached_property
    def report(self) -> CabinetReport:
        return get_object_or_404(
            CabinetReport.objects.select_related("meeting__committee", "agenda_item"),
            pk=self.kwargs["report_pk"],
        )

    @property
    def report_url(self) -> str:
        return reverse("scrutiny:report", args=[self.report.pk])


class ReportCreateView(ManagersMixin, View):
    def page(self, form, status=200):
        return render(
            self.request,
            "scrutiny/report_form.html",
            {"form": form, "error_forms": [form], "report": None},
            status=status,
        )

    def get(self, request):
        return self.page(
            forms.ReportForm(initial={"wards_affected": "(All Wards);", "background_papers": "None"})
        )

    def post(self, request):
        form = forms.ReportForm(request.POST)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            report = services.cabinet_report_create(
                user=request.user,
                agenda_item=form.cleaned_data["agenda_item"],
                meeting=form.cleaned_data["meeting"],
                values=form.values(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.page(form, 400)
        return redirect("scrutiny:report", report.pk)


class ReportEditView(ReportMixin, ManagersMixin, View):
    def page(self, form, status=200):
        return render(
            self.request,
            "scrutiny/report_form.html",
            {"form": form, "error_forms": [form], "report": self.report},
            status=status,
        )

    def get(self, request, report_pk):
        initial = {name: getattr(self.report, name) for name in services.REPORT_TEXT_FIELDS}
        return self.page(forms.ReportForm(initial=initial | {"version": self.report.version}, editing=True))

    def post(self, request, report_pk):
        form = forms.ReportForm(request.POST, editing=True)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            services.cabinet_report_update(
                user=request.user,
                report_id=self.report.pk,
                expected_version=form.cleaned_data["version"],
                values=form.values(),
            )
        except services.Conflict as conflict:
            return conflict_page(request, conflict, back=self.report_url)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.page(form, 400)
        messages.success(request, "Report saved")
        return redirect(self.report_url)


class ReportDetailView(ReportMixin, ReadersMixin, View):
    """The composer: the report as it will print, with its appendices listed. No exempt content."""

    def get(self, request, report_pk):
        report = self.report
        context = packs.report_context(report)
        may_see_exempt = can_see_exempt_appendices(request.user, report)
        decision = DecisionRecord.objects.filter(report=report).first()
        return render(
            request,
            "scrutiny/report_detail.html",
            context
            | {
                "decision": decision,
                "can_publish": decision is None and timezone.localdate() <= report.meeting.date,
                "can_manage": can_manage(request.user),
                "can_grant": can_grant(request.user),
                "may_see_exempt": may_see_exempt,
                "versions": selectors.report_versions(report, may_see_exempt=may_see_exempt),
            },
        )


def print_preview(request, *, report, appendix=None, may_see_exempt: bool, name: str):
    """A part of the report rendered now by WeasyPrint, shown inline (not a download)."""
    from core.documents import PackError

    try:
        pdf = packs.cabinet_report_preview(report=report, appendix=appendix, exempt_pack=may_see_exempt)
    except PackError as error:
        return render(
            request,
            "scrutiny/preview_refused.html",
            {
                "report": report,
                "message": error.message,
                "back": reverse("scrutiny:report", args=[report.pk]),
            },
            status=422,
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


class ReportPreviewView(ReportMixin, ReadersMixin, View):
    """The report itself as it will print (its body holds nothing exempt)."""

    def get(self, request, report_pk):
        return print_preview(
            request, report=self.report, may_see_exempt=False, name=f"preview-report-{self.report.pk}.pdf"
        )


class ReportPublishView(ReportMixin, VersionedFormView):
    """Publish the papers: freeze a version (the first, or a supplement or correction)."""

    form_class = forms.ReportPublishForm
    title = "Publish the papers"
    submit = "Publish"

    def back(self):
        return self.report_url

    def form(self, data=None, files=None):
        return self.form_class(
            data,
            files,
            initial=self.initial(),
            later=self.report.versions.exists(),
            late=services.publication_is_late(self.report),
        )

    def initial(self):
        return {"version": self.report.version}

    def page(self, form, status=200):
        refusal = services.report_publication_refusal(self.report)
        if refusal:
            return render(
                self.request,
                "scrutiny/publish_refused.html",
                {"report": self.report, "back": self.back(), "message": refusal},
                status=status,
            )
        return form_page(
            self.request,
            form=form,
            title=self.title,
            back=self.back(),
            back_label="Back",
            intro=self.intro(),
            submit=self.submit,
            status=status,
        )

    def intro(self) -> str:
        today, meeting = timezone.localdate(), self.report.meeting.date
        deadline = services.publication_deadline(meeting)
        text = (
            f"The papers will be published today, {today:%-d %B %Y}, and dated so. The meeting is on "
            f"{meeting:%-d %B %Y}: to give five clear days, papers had to be published by "
            f"{deadline:%-d %B %Y}."
        )
        if today > deadline:
            text += (
                " Published now, they can be considered only if the chair of the meeting agrees they are "
                "urgent, for reasons the minutes will record."
            )
        return text

    def save(self, data):
        version = services.report_version_publish(
            user=self.request.user,
            report_id=self.report.pk,
            expected_version=data["version"],
            kind=data.get("kind") or "original",
            reason=data.get("reason") or "",
            urgency_reasons=data.get("urgency_reasons") or "",
            urgency_agreed_by=data.get("urgency_agreed_by") or "",
        )
        messages.success(self.request, f"Version {version.number} published")
        warning = services.late_publication_warning(version)
        if warning:
            messages.warning(self.request, warning)
        return redirect(self.back())


class DisclosureCheckView(ReportMixin, ReadersMixin, View):
    """Before an export: every figure the public pack publishes, shown or suppressed, and why."""

    def get(self, request, report_pk):
        report = self.report
        return render(
            request,
            "scrutiny/disclosure_check.html",
            {
                "report": report,
                "report_url": self.report_url,
                "publications": packs.cabinet_report_disclosure(report=report),
            },
        )


class ReportHistoryView(ReportMixin, ReadersMixin, View):
    def get(self, request, report_pk):
        may_see = can_see_exempt_appendices(request.user, self.report)
        entries = selectors.report_history(self.report, may_see_exempt=may_see)
        shown = exempt_fields_shown(entries)
        if may_see and shown:  # logged when the history showed an exempt appendix's content
            record_access(
                request=request,
                user=request.user,
                record=self.report,
                label=f"Cabinet report {self.report.pk}",
                fields=shown,
                channel=AccessLogEntry.Channel.HISTORY,
            )
        return render(
            request,
            "scrutiny/history.html",
            {"title": f"History: {self.report.title}", "back": self.report_url, "entries": entries},
        )


class ReportGrantsView(ReportMixin, GrantorsMixin, View):
    """Information governance gives and removes access to the exempt appendices."""

    def page(self, form, status=200):
        return render(
            self.request,
            "scrutiny/report_grants.html",
            {
                "report": self.report,
                "form": form,
                "error_forms": [form],
                "grants": core_permissions.grants_on(self.report),
                "events": core_permissions.grant_history(self.report),
            },
            status=status,
        )

    def get(self, request, report_pk):
        return self.page(
            forms.GrantForm(initial={"expires_on": services.report_grant_default_end()}, grantor=request.user)
        )

    def post(self, request, report_pk):
        if "revoke" in request.POST:
            try:
                grant_id = int(request.POST["revoke"])
                services.report_revoke(
                    revoked_by=request.user,
                    report_id=self.report.pk,
                    grant_id=grant_id,
                    reason="Removed by information governance",
                )
            except (ValueError, ObjectDoesNotExist) as bad:
                raise Http404("Page not found") from bad
            messages.success(request, "Grant removed")
            return redirect("scrutiny:report_grants", self.report.pk)
        form = forms.GrantForm(request.POST, grantor=request.user)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            services.report_grant(
                granted_by=request.user,
                report_id=self.report.pk,
                user=form.cleaned_data["user"],
                reason=form.cleaned_data["reason"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.page(form, 400)
        messages.success(request, "Grant given")
        return redirect("scrutiny:report_grants", self.report.pk)


class DecisionView(ReportMixin, VersionedFormView):
    form_class = forms.DecisionForm
    title = "Record the decision"

    def back(self):
        return self.report_url

    def initial(self):
        record = DecisionRecord.objects.filter(report=self.report).first()
        if record is None:
            return {
                "key_decision": self.report.decision_type == CabinetReport.DecisionType.KEY,
                "call_in": "open",
                "decision_maker": DecisionRecord.DecisionMaker.CABINET,
                "decided_on": self.report.meeting.date,
            }
        return {
            "decision_text": record.decision_text,
            "status": record.status,
            "key_decision": record.key_decision,
            "call_in": record.call_in,
            "published_on": record.published_on,
            "effective_on": record.effective_on,
            "decision_maker": record.decision_maker,
            "decision_maker_name": record.decision_maker_name,
            "delegation": record.delegation,
            "decided_on": record.decided_on,
            "call_in_exemption_reason": record.call_in_exemption_reason,
            "call_in_exemption_agreed_by": record.call_in_exemption_agreed_by,
            "version": record.version,
        }

    def save(self, data):
        version = data.pop("version")
        services.decision_record(
            user=self.request.user,
            report_id=self.report.pk,
            expected_version=version,
            data=services.DecisionInput(**data),
        )
        messages.success(self.request, "Decision recorded")
        return redirect(self.back())
