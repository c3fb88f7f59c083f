"""Scrutiny pages: thin views over scrutiny.services and scrutiny.selectors.

Readers (scrutiny.permissions.READERS) see the tracker and reports; report officers change
them. An exempt appendix's content is shown only to holders of a grant on the report in a
two-factor session, and every such read writes an access-log row.
"""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View

from core import permissions as core_permissions
from core.access_log import record_access, record_access_many
from core.exempt import shown_fields
from core.history import exempt_fields_shown
from core.models import AccessLogEntry
from core.spreadsheets import safe_cell as _cell
from referrals.views import _apply_errors
from scrutiny import forms, packs, selectors, services
from scrutiny.filters import TrackerFilter
from scrutiny.models import Action, Appendix, CabinetReport, DecisionRecord, Recommendation
from scrutiny.permissions import (
    GrantorsMixin,
    ManagersMixin,
    ReadersMixin,
    can_grant,
    can_manage,
    can_see_exempt_appendices,
)

FORM_TEMPLATE = "scrutiny/form.html"


def _form_page(
    request, *, form, title, back, back_label, intro="", submit="Save", status=200, multipart=False
):
    return render(
        request,
        FORM_TEMPLATE,
        {
            "form": form,
            "error_forms": [form],
            "title": title,
            "back": back,
            "back_label": back_label,
            "intro": intro,
            "submit": submit,
            "multipart": multipart,
        },
        status=status,
    )


def _conflict(request, error: services.Conflict, *, back: str):
    return render(request, "scrutiny/conflict.html", {"record": error.record, "back": back}, status=409)


# --- Tracker --------------------------------------------------------------------------------


class TrackerView(ReadersMixin, View):
    filterset_class = TrackerFilter

    def get(self, request):
        filterset = self.filterset_class(request.GET or None, queryset=selectors.tracker())
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else selectors.tracker()
        query = request.GET.copy()
        return render(
            request,
            "scrutiny/tracker.html",
            {
                "filter": filterset,
                "filter_forms": [filterset.form] if filterset.is_bound else [],
                "recommendations": queryset,
                "rag_labels": selectors.Rag.LABELS,
                "can_manage": can_manage(request.user),
                "query": query.urlencode(),
                "amber_days": settings.SCRUTINY_AMBER_DAYS,
            },
        )


class TrackerExportView(ReadersMixin, View):
    """The tracker as CSV: what the page shows, nothing exempt (the tracker holds none)."""

    filterset_class = TrackerFilter

    def get(self, request):
        filterset = self.filterset_class(request.GET or None, queryset=selectors.tracker())
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else selectors.tracker()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="scrutiny-tracker.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "Recommendation",
                "Source",
                "Meeting",
                "Text",
                "Response",
                "Status",
                "RAG",
                "Actions",
                "Owners",
                "Next due",
            ]
        )
        for rec in queryset:
            actions = list(rec.actions.all())
            live = [a for a in actions if a.status in selectors.LIVE]
            response_row = getattr(rec, "response", None)
            writer.writerow(
                [
                    _cell(rec.label),
                    _cell(rec.get_source_display()),
                    _cell(str(rec.meeting) if rec.meeting else rec.source_reference),
                    _cell(rec.text),
                    _cell(response_row.get_decision_display() if response_row else "No response yet"),
                    _cell(rec.get_status_display()),
                    _cell(selectors.Rag.LABELS[rec.rag]),
                    len(actions),
                    _cell("; ".join(sorted({a.owner for a in actions}))),
                    _cell(min((a.due_date for a in live), default="")),
                ]
            )
        return response


class RecommendationMixin:
    @cached_property
    def recommendation(self) -> Recommendation:
        try:
            return selectors.recommendation_detail(pk=self.kwargs["recommendation_pk"])
        except Recommendation.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    @property
    def detail_url(self) -> str:
        return reverse("scrutiny:recommendation", args=[self.recommendation.pk])


class RecommendationCreateView(ManagersMixin, View):
    def get(self, request):
        return self.page(forms.RecommendationForm())

    def page(self, form, status=200):
        return _form_page(
            self.request,
            form=form,
            title="Record a recommendation",
            back=reverse("scrutiny:tracker"),
            back_label="Back to the tracker",
            submit="Record recommendation",
            status=status,
        )

    def post(self, request):
        form = forms.RecommendationForm(request.POST)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            rec = services.recommendation_create(
                user=request.user, data=services.RecommendationInput(**form.cleaned_data)
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.page(form, 400)
        messages.success(request, f"{rec.label} recorded")
        return redirect("scrutiny:recommendation", rec.pk)


class RecommendationDetailView(ReadersMixin, RecommendationMixin, View):
    def get(self, request, recommendation_pk):
        rec = self.recommendation
        return render(
            request,
            "scrutiny/recommendation_detail.html",
            {
                "rec": rec,
                "response": selectors.response_of(rec),
                "actions": selectors.recommendation_actions(recommendation=rec),
                "evidence": rec.evidence.select_related("review", "guidance_document"),
                "rag_labels": selectors.Rag.LABELS,
                "can_manage": can_manage(request.user),
            },
        )


class RecommendationHistoryView(ReadersMixin, RecommendationMixin, View):
    def get(self, request, recommendation_pk):
        return render(
            request,
            "scrutiny/history.html",
            {
                "title": f"History: {self.recommendation.label}",
                "back": self.detail_url,
                "entries": selectors.recommendation_history(self.recommendation),
            },
        )


class VersionedFormView(ManagersMixin, View):
    """GET shows the form, POST calls one service with the version the user loaded."""

    form_class = None
    title = ""
    submit = "Save"
    multipart = False

    def initial(self) -> dict:
        return {}

    def back(self) -> str:
        raise NotImplementedError

    def form(self, data=None, files=None):
        return self.form_class(data, files, initial=self.initial())

    def page(self, form, status=200):
        return _form_page(
            self.request,
            form=form,
            title=self.title,
            back=self.back(),
            back_label="Back",
            submit=self.submit,
            status=status,
            multipart=self.multipart,
        )

    def get(self, request, **kwargs):
        return self.page(self.form())

    def post(self, request, **kwargs):
        form = self.form(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            done = self.save(form.cleaned_data)
        except services.Conflict as conflict:
            return _conflict(request, conflict, back=self.back())
        except ValidationError as error:
            _apply_errors(form, error)
            return self.page(form, 400)
        return done

    def save(self, data):
        raise NotImplementedError


class RecommendationEditView(RecommendationMixin, VersionedFormView):
    form_class = forms.RecommendationEditForm
    title = "Change the recommendation"

    def back(self):
        return self.detail_url

    def initial(self):
        rec = self.recommendation
        return {
            "text": rec.text,
            "status": rec.status,
            "agenda_item": rec.agenda_item_id,
            "version": rec.version,
        }

    def save(self, data):
        services.recommendation_update(
            user=self.request.user,
            recommendation_id=self.recommendation.pk,
            expected_version=data["version"],
            text=data["text"],
            status=data["status"],
            agenda_item=data["agenda_item"],
        )
        return redirect(self.back())


class ResponseView(RecommendationMixin, VersionedFormView):
    form_class = forms.ResponseForm
    title = "Record the executive response"

    def back(self):
        return self.detail_url

    def initial(self):
        response = selectors.response_of(self.recommendation)
        initial = {"version": self.recommendation.version, "responded_on": timezone.localdate()}
        if response:
            initial |= {
                "decision": response.decision,
                "text": response.text,
                "responded_by": response.responded_by,
                "responded_on": response.responded_on,
            }
        return initial

    def save(self, data):
        services.response_record(
            user=self.request.user,
            recommendation_id=self.recommendation.pk,
            expected_version=data.pop("version"),
            **data,
        )
        messages.success(self.request, "Response recorded")
        return redirect(self.back())


class ActionAddView(RecommendationMixin, VersionedFormView):
    form_class = forms.ActionForm
    title = "Add an action"

    def back(self):
        return self.detail_url

    def initial(self):
        return {"version": self.recommendation.version}

    def save(self, data):
        services.action_add(
            user=self.request.user,
            recommendation_id=self.recommendation.pk,
            expected_version=data.pop("version"),
            **data,
        )
        messages.success(self.request, "Action added")
        return redirect(self.back())


class ActionView(VersionedFormView):
    """Change an action, or add a progress update to it (two forms, one page)."""

    form_class = forms.ActionEditForm

    @cached_property
    def action(self) -> Action:
        return get_object_or_404(Action.objects.select_related("recommendation"), pk=self.kwargs["action_pk"])

    def back(self):
        return reverse("scrutiny:recommendation", args=[self.action.recommendation_id])

    def initial(self):
        a = self.action
        return {
            "description": a.description,
            "owner": a.owner,
            "due_date": a.due_date,
            "status": a.status,
            "completed_on": a.completed_on,
            "version": a.version,
        }

    def page(self, form, status=200, progress=None):
        progress = progress or forms.ProgressForm(
            initial={"version": self.action.version, "date": timezone.localdate()}, prefix="progress"
        )
        return render(
            self.request,
            "scrutiny/action.html",
            {
                "action": self.action,
                "form": form,
                "progress": progress,
                "error_forms": [form, progress],
                "back": self.back(),
                "updates": self.action.updates.select_related("created_by"),
            },
            status=status,
        )

    def post(self, request, **kwargs):
        if "progress-version" not in request.POST:
            return super().post(request, **kwargs)
        progress = forms.ProgressForm(request.POST, prefix="progress")
        if not progress.is_valid():
            return self.page(self.form(), 400, progress)
        try:
            services.progress_add(
                user=request.user,
                action_id=self.action.pk,
                expected_version=progress.cleaned_data.pop("version"),
                **progress.cleaned_data,
            )
        except services.Conflict as conflict:
            return _conflict(request, conflict, back=self.back())
        except ValidationError as error:
            _apply_errors(progress, error)
            return self.page(self.form(), 400, progress)
        messages.success(request, "Progress recorded")
        return redirect(self.back())

    def save(self, data):
        services.action_update(
            user=self.request.user, action_id=self.action.pk, expected_version=data.pop("version"), **data
        )
        messages.success(self.request, "Action changed")
        return redirect(self.back())


class EvidenceAddView(RecommendationMixin, ManagersMixin, View):
    def page(self, form, status=200):
        return _form_page(
            self.request,
            form=form,
            title="Link evidence",
            back=self.detail_url,
            back_label="Back",
            intro="Link to something in this service that shows progress: a review's findings, a guidance "
            "version, training coverage or another page.",
            submit="Link evidence",
            status=status,
        )

    def get(self, request, recommendation_pk):
        return self.page(forms.EvidenceForm())

    def post(self, request, recommendation_pk):
        form = forms.EvidenceForm(request.POST)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            services.evidence_add(
                user=request.user, recommendation_id=self.recommendation.pk, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.page(form, 400)
        return redirect(self.detail_url)


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
            _apply_errors(form, error)
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
            return _conflict(request, conflict, back=self.report_url)
        except ValidationError as error:
            _apply_errors(form, error)
            return self.page(form, 400)
        messages.success(request, "Report saved")
        return redirect(self.report_url)


class ReportDetailView(ReportMixin, ReadersMixin, View):
    """The composer: the report as it will print, with its appendices listed. No exempt content."""

    def get(self, request, report_pk):
        report = self.report
        context = packs.report_context(report)
        may_see_exempt = can_see_exempt_appendices(request.user, report)
        return render(
            request,
            "scrutiny/report_detail.html",
            context
            | {
                "decision": DecisionRecord.objects.filter(report=report).first(),
                "can_manage": can_manage(request.user),
                "can_grant": can_grant(request.user),
                "may_see_exempt": may_see_exempt,
                "versions": selectors.report_versions(report, may_see_exempt=may_see_exempt),
            },
        )


class ReportPublishView(ReportMixin, VersionedFormView):
    """Publish the papers: freeze a version (the first, or a supplement or correction)."""

    form_class = forms.ReportPublishForm
    title = "Publish the papers"
    submit = "Publish"

    def back(self):
        return self.report_url

    def form(self, data=None, files=None):
        return self.form_class(data, files, initial=self.initial(), later=self.report.versions.exists())

    def initial(self):
        return {"version": self.report.version, "published_on": timezone.localdate()}

    def save(self, data):
        version = services.report_version_publish(
            user=self.request.user,
            report_id=self.report.pk,
            expected_version=data["version"],
            published_on=data["published_on"],
            kind=data.get("kind") or "original",
            reason=data.get("reason") or "",
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
        return self.page(forms.GrantForm(initial={"expires_on": services.report_grant_default_end()}))

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
        form = forms.GrantForm(request.POST)
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
            _apply_errors(form, error)
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
            "guidance_version": a.guidance_version_id,
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
