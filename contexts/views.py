"""Contextual safeguarding pages: alerts, context records, rules and figures (thin views)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from contexts import selectors, services
from contexts.forms import AlertActionForm, RuleForm
from contexts.models import Alert, Context, PatternRule
from contexts.permissions import (
    ContextReaderRequiredMixin,
    ManagerRequiredMixin,
    PublicFiguresRequiredMixin,
    RuleEditorRequiredMixin,
)
from core.access_log import record_access, record_access_many
from core.forms import apply_service_errors
from core.models import AccessLogEntry


def _log_reads(request, *, record, label: str, view, reason: str, school: bool = False) -> None:
    """Every read of exempt information the page showed, in the access log. ``school``: the
    page lists the referrals under a school, so it shows which school their children attend
    (``Child.school``, as the review's findings panel logs it)."""
    if view.identifiable:
        record_access_many(
            request=request,
            user=request.user,
            records=[(r, r.reference) for r in view.identifiable],
            fields=selectors.EVIDENCE_SHOWS + (selectors.SCHOOL_SHOWS if school else []),
            channel=AccessLogEntry.Channel.PAGE,
            reason=reason,
        )
    fields = []
    if view.name.exempt_shown:
        fields += selectors.PLACE_SHOWS
    if view.actions:
        fields += selectors.ACTION_SHOWS
    if fields:
        record_access(
            request=request,
            user=request.user,
            record=record,
            label=label,
            fields=fields,
            channel=AccessLogEntry.Channel.PAGE,
            reason=reason,
        )


class AlertListView(ManagerRequiredMixin, TemplateView):
    template_name = "contexts/alert_list.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", Alert.Status.OPEN)
        if status not in (*Alert.Status.values, "all"):
            status = Alert.Status.OPEN
        return {
            **super().get_context_data(**kwargs),
            "alerts": selectors.alerts_list(user=self.request.user, status="" if status == "all" else status),
            "status": status,
            "statuses": [*Alert.Status.choices, ("all", "All alerts")],
        }


class AlertDetailView(ManagerRequiredMixin, TemplateView):
    template_name = "contexts/alert_detail.html"

    def get_context_data(self, **kwargs):
        try:
            view = selectors.alert_view(user=self.request.user, pk=self.kwargs["alert_pk"])
        except Alert.DoesNotExist as missing:
            raise Http404("Page not found") from missing
        _log_reads(
            self.request,
            record=view.alert,
            label=str(view.alert),
            view=view,
            reason="Contextual safeguarding alert",
            school=view.alert.context is not None and view.alert.context.kind == Context.Kind.SCHOOL,
        )
        if view.taken_out and view.alert.context is not None:
            record_access_many(
                request=self.request,
                user=self.request.user,
                records=[(t.referral, t.referral.reference) for t in view.taken_out],
                fields=selectors.TAKEN_OUT_SHOWS[view.alert.context.kind],
                channel=AccessLogEntry.Channel.PAGE,
                reason="Contextual safeguarding alert: referral taken out of the evidence",
            )
        return {**super().get_context_data(**kwargs), "view": view, "alert": view.alert}


class AlertActionView(ManagerRequiredMixin, View):
    """Record what was done about an alert (one service); the alert is then acted on."""

    template_name = "contexts/alert_action.html"

    def _alert(self) -> Alert:
        alert = (
            selectors.alerts_visible_to(user=self.request.user)
            .select_related("rule", "context__school")
            .filter(pk=self.kwargs["alert_pk"])
            .first()
        )
        if alert is None:
            raise Http404("Page not found")
        return alert

    def _page(self, alert, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"alert": alert, "form": form, "error_forms": [form]},
            status=status,
        )

    def get(self, request, **kwargs):
        alert = self._alert()
        form = AlertActionForm(initial={"version": alert.version}, school=alert.rule.is_school)
        return self._page(alert, form)

    def post(self, request, **kwargs):
        alert = self._alert()
        form = AlertActionForm(request.POST, school=alert.rule.is_school)
        if "version" in form.errors:  # missing or not a number: as stale as can be
            return render(
                request,
                "contexts/conflict.html",
                {"record": alert, "back": reverse("contexts:alert", args=[alert.pk])},
                status=409,
            )
        if not form.is_valid():
            return self._page(alert, form, 400)
        try:
            action = services.alert_record_action(
                user=request.user,
                alert_id=alert.pk,
                expected_version=form.cleaned_data["version"],
                data=form.to_input(),
            )
        except services.AlertConflict as conflict:
            return render(
                request,
                "contexts/conflict.html",
                {"record": conflict.record, "back": reverse("contexts:alert", args=[alert.pk])},
                status=409,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self._page(alert, form, 400)
        messages.success(request, f"{action.get_kind_display()} recorded on alert {alert.pk}")
        return HttpResponseRedirect(reverse("contexts:alert", args=[alert.pk]))


class ContextListView(ManagerRequiredMixin, TemplateView):
    template_name = "contexts/context_list.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "contexts": selectors.contexts_list(user=self.request.user),
        }


class ContextDetailView(ContextReaderRequiredMixin, TemplateView):
    """A manager's context record; for a case review's lead reviewer and reviewers, a school
    their review's same-school cases concern, with only its referrals they may identify and
    the case reviews (selectors.context_view decides; 404 for anything else)."""

    template_name = "contexts/context_detail.html"

    def get_context_data(self, **kwargs):
        try:
            view = selectors.context_view(user=self.request.user, pk=self.kwargs["context_pk"])
        except Context.DoesNotExist as missing:
            raise Http404("Page not found") from missing
        _log_reads(
            self.request,
            record=view.context,
            label=str(view.context),
            view=view,
            reason="Context record",
            school=view.context.kind == Context.Kind.SCHOOL,
        )
        return {**super().get_context_data(**kwargs), "view": view, "context_record": view.context}


class RuleListView(RuleEditorRequiredMixin, TemplateView):
    template_name = "contexts/rule_list.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "rules": selectors.rules()}


class RuleEditView(RuleEditorRequiredMixin, View):
    template_name = "contexts/rule_edit.html"

    def _rule(self) -> PatternRule:
        try:
            return selectors.rule_get(pk=self.kwargs["rule_pk"])
        except PatternRule.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def _page(self, rule, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"rule": rule, "form": form, "error_forms": [form]},
            status=status,
        )

    def get(self, request, **kwargs):
        rule = self._rule()
        return self._page(rule, RuleForm(initial=RuleForm.initial_for(rule)))

    def post(self, request, **kwargs):
        rule = self._rule()
        form = RuleForm(request.POST)
        if "version" in form.errors:  # missing or not a number: never "the current version"
            return render(
                request,
                "contexts/conflict.html",
                {"record": rule, "back": reverse("contexts:rule_edit", args=[rule.pk])},
                status=409,
            )
        if not form.is_valid():
            return self._page(rule, form, 400)
        try:
            services.rule_update(
                user=request.user,
                rule_id=rule.pk,
                expected_version=form.cleaned_data["version"],
                data=form.to_input(),
            )
        except services.RuleConflict as conflict:
            return render(
                request,
                "contexts/conflict.html",
                {"record": conflict.record, "back": reverse("contexts:rule_edit", args=[rule.pk])},
                status=409,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self._page(rule, form, 400)
        messages.success(request, f"Rule changed: {rule.get_kind_display().lower()}")
        return HttpResponseRedirect(reverse("contexts:rules"))


class FiguresView(ManagerRequiredMixin, TemplateView):
    template_name = "contexts/figures.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "figures": selectors.figures_internal(user=self.request.user),
            "public": False,
        }


class PublicFiguresView(PublicFiguresRequiredMixin, TemplateView):
    template_name = "contexts/figures.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "figures": selectors.figures_public(), "public": True}


def review_findings_panel(request, review, referral_id: int | None = None) -> dict | None:
    """The findings page of a case review (reviews.panels registry: reviews cannot import us):
    for its lead reviewer and reviewers, a link to the context record of each school whose
    pupils are the victim and the alleged perpetrator of one of its cases. Which school a child
    attends is exempt: only cases the viewer may identify are counted, and each is logged.
    With ``referral_id`` (a case's assessment page): that case's school only."""
    links = selectors.review_same_school_links(
        user=request.user, review_id=review.pk, referral_id=referral_id
    )
    if not links:
        return None
    if referral_id is not None:  # the case's page logs its read of the case, this included
        return {
            "template": "contexts/includes/review_findings_panel.html",
            "links": links,
            "one_case": True,
            "shown_fields": selectors.SCHOOL_SHOWS,
        }
    shown = {r.pk: r for link in links for r in link.referrals}
    record_access_many(
        request=request,
        user=request.user,
        records=[(r, r.reference) for r in shown.values()],
        fields=selectors.SCHOOL_SHOWS,
        channel=AccessLogEntry.Channel.PAGE,
        reason="Case review: same-school findings",
    )
    return {"template": "contexts/includes/review_findings_panel.html", "links": links, "one_case": False}
