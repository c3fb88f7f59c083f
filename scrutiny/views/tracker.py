"""The recommendations tracker: recommendations, executive responses, actions and evidence."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View

from core.forms import apply_service_errors
from core.spreadsheets import safe_cell as _cell
from scrutiny import forms, selectors, services
from scrutiny.filters import TrackerFilter
from scrutiny.models import Action, Recommendation
from scrutiny.permissions import (
    ManagersMixin,
    ReadersMixin,
    can_manage,
)
from scrutiny.views.common import VersionedFormView, conflict_page, form_page

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
        return form_page(
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
            apply_service_errors(form, error)
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
            return conflict_page(request, conflict, back=self.back())
        except ValidationError as error:
            apply_service_errors(progress, error)
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
        return form_page(
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
            apply_service_errors(form, error)
            return self.page(form, 400)
        return redirect(self.detail_url)
