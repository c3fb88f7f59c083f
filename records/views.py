"""Information governance's records pages: the schedule, legal holds, the disposal review,
disposal batches and their certificates. Thin views: each POST calls one service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from core.permissions import RoleRequiredMixin
from core.roles import Role
from records import selectors, services
from records.forms import BatchApprovalForm, CandidateDecisionForm, LegalHoldForm, LiftHoldForm
from records.models import DisposalBatch, DisposalCandidate, LegalHold

GOVERNANCE = frozenset({Role.INFORMATION_GOVERNANCE})


def _add_errors(form, error: ValidationError) -> None:
    for field, messages_ in getattr(error, "message_dict", {None: error.messages}).items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


class RecordsHomeView(RoleRequiredMixin, View):
    roles = GOVERNANCE

    def get(self, request):
        return render(
            request,
            "records/records_home.html",
            {
                "schedule": selectors.schedule_rows(),
                "holds": selectors.holds_in_force().select_related("placed_by"),
                "awaiting": selectors.candidates_awaiting().count(),
                "to_batch": selectors.candidates_to_batch().count(),
                "batches": selectors.batches()[:20],
            },
        )


class LegalHoldCreateView(RoleRequiredMixin, View):
    roles = GOVERNANCE

    def get(self, request):
        return self.render(LegalHoldForm())

    def post(self, request):
        form = LegalHoldForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                hold = services.legal_hold_place(
                    user=request.user,
                    name=data["name"],
                    reason=data["reason"],
                    received_from=data["received_from"],
                    received_to=data["received_to"],
                    forms_of_abuse=list(data["forms_of_abuse"]),
                    references=data["references"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Legal hold '{hold.name}' placed")
                return redirect("records:hold", hold_pk=hold.pk)
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(
            self.request,
            "records/legalhold_create.html",
            {"form": form, "error_forms": [form]},
            status=status,
        )


class LegalHoldView(RoleRequiredMixin, View):
    roles = GOVERNANCE

    def hold(self):
        try:
            return LegalHold.objects.select_related("placed_by", "lifted_by").get(pk=self.kwargs["hold_pk"])
        except LegalHold.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, hold_pk):
        return self.render(self.hold(), LiftHoldForm())

    def post(self, request, hold_pk):
        hold = self.hold()
        form = LiftHoldForm(request.POST)
        if form.is_valid():
            try:
                services.legal_hold_lift(
                    user=request.user, hold_id=hold.pk, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Legal hold '{hold.name}' lifted")
                return redirect("records:home")
        return self.render(hold, form, status=400)

    def render(self, hold, form, status=200):
        return render(
            self.request,
            "records/legalhold_detail.html",
            {
                "hold": hold,
                "forms_of_abuse": list(hold.forms_of_abuse.all()),
                "named": list(hold.referrals.order_by("reference").values_list("reference", flat=True)),
                "covered": selectors.hold_referral_count(hold),
                "form": form,
                "error_forms": [form],
            },
            status=status,
        )


class DisposalReviewView(RoleRequiredMixin, View):
    """The records past their period, and the ones decided for disposal waiting for a batch."""

    roles = GOVERNANCE

    def get(self, request):
        return self.render()

    def post(self, request):
        try:
            batch = services.disposal_batch_create(user=request.user)
        except ValidationError as error:
            return self.render(error=error.messages[0], status=400)
        messages.success(request, f"Disposal batch {batch.pk} made: another officer must approve it")
        return redirect("records:batch", batch_pk=batch.pk)

    def render(self, error=None, status=200):
        return render(
            self.request,
            "records/disposal_review.html",
            {
                "awaiting": selectors.candidates_awaiting(),
                "to_batch": selectors.candidates_to_batch(),
                "error": error,
            },
            status=status,
        )


class CandidateDecideView(RoleRequiredMixin, View):
    roles = GOVERNANCE

    def candidate(self):
        try:
            return DisposalCandidate.objects.select_related("decided_by", "hold").get(
                pk=self.kwargs["candidate_pk"]
            )
        except DisposalCandidate.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, candidate_pk):
        return self.render(self.candidate(), CandidateDecisionForm())

    def post(self, request, candidate_pk):
        candidate = self.candidate()
        form = CandidateDecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.disposal_candidate_decide(
                    user=request.user,
                    candidate_id=candidate.pk,
                    decision=data["decision"],
                    reason=data["reason"],
                    extended_to=data["extended_to"],
                    hold_name=data["hold_name"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Decision on {candidate.reference} recorded")
                return redirect("records:disposal_review")
        return self.render(candidate, form, status=400)

    def render(self, candidate, form, status=200):
        return render(
            self.request,
            "records/disposalcandidate_decide.html",
            {"candidate": candidate, "form": form, "error_forms": [form]},
            status=status,
        )


class DisposalBatchView(RoleRequiredMixin, View):
    """A batch: its records, the second person's approval, and once disposed its certificate."""

    roles = GOVERNANCE

    def batch(self):
        try:
            return selectors.batch_detail(self.kwargs["batch_pk"])
        except DisposalBatch.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, batch_pk):
        return self.render(self.batch(), BatchApprovalForm())

    def post(self, request, batch_pk):
        batch = self.batch()
        form = BatchApprovalForm(request.POST)
        if form.is_valid():
            try:
                services.disposal_batch_approve(
                    user=request.user,
                    batch_id=batch.pk,
                    approve=form.cleaned_data["approve"],
                    note=form.cleaned_data["note"],
                )
            except PermissionDenied as refused:
                form.add_error("approve", str(refused))
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Your decision on disposal batch {batch.pk} is recorded")
                return redirect("records:batch", batch_pk=batch.pk)
        return self.render(batch, form, status=400)

    def render(self, batch, form, status=200):
        candidates = list(selectors.batch_candidates(batch))
        deciders = {c.decided_by_id for c in candidates}
        return render(
            self.request,
            "records/disposalbatch_detail.html",
            {
                "batch": batch,
                "candidates": candidates,
                "tombstones": list(selectors.batch_tombstones(batch)),
                "own": self.request.user.pk == batch.created_by_id or self.request.user.pk in deciders,
                "form": form,
                "error_forms": [form],
            },
            status=status,
        )
