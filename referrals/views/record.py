"""One referral: its page, its history, its case notes and who has seen it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from core import permissions
from core.access_log import record_access_many
from core.forms import apply_service_errors
from core.history import exempt_fields_shown
from core.models import AccessLogEntry
from core.roles import Role, has_role
from core.selectors import access_log_for
from core.timescales import rag_clock
from referrals import selectors, services
from referrals.forms import (
    CaseNoteForm,
)
from referrals.models import Child, Referral
from referrals.views.common import (
    ReferralMixin,
)

# --- One referral ---------------------------------------------------------------------------


class ReferralDetailView(ReferralMixin, TemplateView):
    template_name = "referrals/referral_detail.html"
    open_when_disposed = True

    def get_context_data(self, **kwargs):
        if self.referral.disposed_at is not None:
            # Nothing exempt is left: the page says it was disposed of and shows the tombstone.
            self.template_name = "referrals/referral_disposed.html"
            return {
                **super().get_context_data(**kwargs),
                "referral": self.referral,
                "disposed": selectors.disposed_referral(referral=self.referral),
                "can_see_access_log": has_role(
                    self.request.user, Role.MASH_MANAGER, Role.INFORMATION_GOVERNANCE
                ),
            }
        try:
            view = selectors.referral_view(user=self.request.user, pk=self.kwargs["pk"])
        except Referral.DoesNotExist as missing:
            raise Http404("Page not found") from missing
        if view.exempt_visible:
            self.log_exempt_read(view.shown_fields)
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "case": view,
            "referral": view.referral,
            "is_manager": has_role(user, Role.MASH_MANAGER),
            "can_see_access_log": has_role(user, Role.MASH_MANAGER, Role.INFORMATION_GOVERNANCE),
            "has_view_grant": permissions.has_grant(user, view.referral, permissions.VIEW_EXEMPT),
            "is_verified": permissions.is_verified(user),
            "rag_clock": (
                rag_clock(view.referral.received_at, view.referral.rag.response_hours)
                if view.referral.rag_id and view.referral.rag_due_at
                else None
            ),
            "emergency_access_ends": selectors.emergency_access_ends(user=user, referral=view.referral),
        }


class ChildRecordView(LoginRequiredMixin, TemplateView):
    """One child and every referral they appear in that the user may know of (a 404 unless the
    user may identify one of them). The read is logged against each referral it identifies."""

    template_name = "referrals/child_record.html"

    def get_context_data(self, **kwargs):
        try:
            record = selectors.child_record(user=self.request.user, pk=self.kwargs["child_pk"])
        except Child.DoesNotExist as missing:
            raise Http404("Page not found") from missing
        record_access_many(
            request=self.request,
            user=self.request.user,
            records=[(referral, referral.reference) for referral in record.identifiable],
            fields=record.shown_fields,
            channel=AccessLogEntry.Channel.PAGE,
            reason="Child record",
        )
        return {**super().get_context_data(**kwargs), "record": record, "child": record.child}


class ReferralHistoryView(ReferralMixin, TemplateView):
    template_name = "referrals/referral_history.html"
    open_when_disposed = True

    def get_context_data(self, **kwargs):
        referral, entries, visible = selectors.referral_history(
            user=self.request.user, pk=self.referral.pk, referral=self.referral
        )
        if visible:
            self.log_exempt_read(exempt_fields_shown(entries), AccessLogEntry.Channel.HISTORY)
        return {
            **super().get_context_data(**kwargs),
            "referral": referral,
            "entries": entries,
            "visible": visible,
        }


class CaseNoteAddView(ReferralMixin, View):
    template_name = "referrals/casenote_form.html"
    needs_change = True

    def notes(self):
        return list(self.referral.notes.order_by("-recorded_at")[:50])

    def get(self, request, pk):
        return self.render(CaseNoteForm(notes=self.notes()))

    def post(self, request, pk):
        form = CaseNoteForm(request.POST, notes=self.notes())
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            services.case_note_add(
                user=request.user,
                referral_id=self.referral.pk,
                occurred_on=form.cleaned_data["occurred_on"],
                occurred_time=form.cleaned_data["occurred_time"],
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                corrects_id=form.cleaned_data.get("corrects"),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "Note added")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]) + "#chronology")

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "referral": self.referral, "error_forms": [form]},
            status=status,
        )


class RecordAccessLogView(ReferralMixin, TemplateView):
    """Who has seen this record: for MASH managers and information governance."""

    template_name = "referrals/referral_access_log.html"
    open_when_disposed = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_role(
            request.user, Role.MASH_MANAGER, Role.INFORMATION_GOVERNANCE
        ):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "referral": self.referral,
            "entries": access_log_for(record=self.referral),
        }
