"""Information governance's records pages: the schedule, legal holds, the disposal review,
disposal batches and their certificates. Thin views: each POST calls one service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from core import exempt
from core.access_log import record_access, record_access_many
from core.documents.services import ExportsUnavailable
from core.forms import apply_service_errors
from core.models import AccessLogEntry
from core.permissions import RoleRequiredMixin
from core.roles import Role
from records import selectors, services
from records.forms import (
    BatchApprovalForm,
    CandidateDecisionForm,
    ExtendForm,
    LegalHoldForm,
    LiftDecisionForm,
    LiftHoldForm,
    RedactionAddForm,
    RedactionRemoveForm,
    SubjectAccessRequestForm,
)
from records.models import DisposalBatch, DisposalCandidate, LegalHold, SubjectAccessRequest

GOVERNANCE = frozenset({Role.INFORMATION_GOVERNANCE})


class RecordsHomeView(RoleRequiredMixin, View):
    roles = GOVERNANCE

    def get(self, request):
        return render(
            request,
            "records/records_home.html",
            {
                "schedule": selectors.schedule_rows(),
                "holds": selectors.holds_in_force_listed(),
                "awaiting": selectors.candidates_awaiting().count(),
                "to_batch": selectors.candidates_to_batch().count(),
                "batches": selectors.batches()[:20],
                "overdue": selectors.sars_overdue(),
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
                apply_service_errors(form, error)
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
    """A hold: its scope, and lifting it. One officer proposes the lift with a reason; while
    that waits, the page shows the proposal and a different officer approves or declines it."""

    roles = GOVERNANCE

    def hold(self):
        try:
            return LegalHold.objects.select_related("placed_by", "lifted_by").get(pk=self.kwargs["hold_pk"])
        except LegalHold.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, hold_pk):
        hold = self.hold()
        return self.render(hold, self.empty_form(selectors.hold_lift_pending(hold)))

    @staticmethod
    def empty_form(pending):
        return LiftDecisionForm() if pending else LiftHoldForm()

    def post(self, request, hold_pk):
        hold = self.hold()
        pending = selectors.hold_lift_pending(hold)
        if pending is None:
            form = LiftHoldForm(request.POST)
            if form.is_valid():
                try:
                    services.legal_hold_lift_propose(
                        user=request.user,
                        hold_id=hold.pk,
                        reason=form.cleaned_data["reason"],
                        request=request,
                    )
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    messages.success(
                        request, f"Lifting '{hold.name}' proposed: another officer must approve it"
                    )
                    return redirect("records:hold", hold_pk=hold.pk)
        else:
            form = LiftDecisionForm(request.POST)
            if form.is_valid():
                approve = form.cleaned_data["approve"]
                try:
                    services.legal_hold_lift_decide(
                        user=request.user,
                        lift_id=pending.pk,
                        approve=approve,
                        note=form.cleaned_data["note"],
                        request=request,
                    )
                except PermissionDenied as refused:
                    form.add_error("approve", str(refused))
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    messages.success(
                        request, f"Legal hold '{hold.name}' " + ("lifted" if approve else "kept in force")
                    )
                    return redirect("records:hold", hold_pk=hold.pk)
        return self.render(hold, form, status=400)

    def render(self, hold, form, status=200):
        pending = selectors.hold_lift_pending(hold)
        return render(
            self.request,
            "records/legalhold_detail.html",
            {
                "hold": hold,
                "forms_of_abuse": list(hold.forms_of_abuse.all()),
                "named": list(hold.referrals.order_by("reference").values_list("reference", flat=True)),
                "covered": selectors.hold_referral_count(hold),
                "pending": pending,
                "own_proposal": pending is not None and pending.proposed_by_id == self.request.user.pk,
                "decided_lifts": selectors.hold_lifts_decided(hold),
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
                apply_service_errors(form, error)
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
                apply_service_errors(form, error)
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


# --- Subject access requests --------------------------------------------------------------------------


class SubjectAccessListView(RoleRequiredMixin, View):
    """Every subject access request, the overdue first."""

    roles = GOVERNANCE

    def get(self, request):
        return render(
            request,
            "records/subjectaccessrequest_list.html",
            {"requests": selectors.sars_by_deadline(), "today": timezone.localdate()},
        )


class SubjectAccessCreateView(RoleRequiredMixin, View):
    roles = GOVERNANCE

    def get(self, request):
        return self.render(SubjectAccessRequestForm())

    def post(self, request):
        form = SubjectAccessRequestForm(request.POST)
        if form.is_valid():
            try:
                sar = services.sar_log(user=request.user, request=request, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request, f"Subject access request {sar.reference} logged: due {sar.due_on:%-d %B %Y}"
                )
                return redirect("records:sar", sar_pk=sar.pk)
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(
            self.request,
            "records/subjectaccessrequest_create.html",
            {"form": form, "error_forms": [form]},
            status=status,
        )


class _SarMixin(RoleRequiredMixin):
    roles = GOVERNANCE

    def sar(self):
        try:
            return selectors.sar_detail(self.kwargs["sar_pk"])
        except SubjectAccessRequest.DoesNotExist as missing:
            raise Http404("Page not found") from missing


class SubjectAccessView(_SarMixin, View):
    """A request: who asked (exempt: logged), the deadline and its extension, the records found,
    the disclosure log and the pack."""

    def get(self, request, sar_pk):
        return self.render(self.sar(), ExtendForm())

    def post(self, request, sar_pk):
        sar = self.sar()
        form = ExtendForm(request.POST)
        if form.is_valid():
            try:
                services.sar_extend(
                    user=request.user,
                    sar_id=sar.pk,
                    extended_to=form.cleaned_data["extended_to"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "The deadline is extended")
                return redirect("records:sar", sar_pk=sar.pk)
        return self.render(sar, form, status=400)

    def render(self, sar, form, status=200):
        record_access(
            request=self.request,
            user=self.request.user,
            record=sar,
            label=sar.reference,
            fields=exempt.shown_fields(
                [sar], displayed={SubjectAccessRequest: ["requester_name", "identity_verified"]}
            ),
            channel=AccessLogEntry.Channel.PAGE,
        )
        return render(
            self.request,
            "records/subjectaccessrequest_detail.html",
            {
                "sar": sar,
                "references": selectors.sar_references(sar),
                "disclosures": list(sar.disclosures.all()),
                "redaction_count": sum(1 for r in sar.redactions.all() if r.active),
                "overdue": sar.status == SubjectAccessRequest.Status.OPEN
                and sar.deadline < timezone.localdate(),
                "form": form,
                "error_forms": [form],
            },
            status=status,
        )


class SubjectAccessRedactionsView(_SarMixin, View):
    """Every proposed or added redaction in context; add one, or remove one, with a reason."""

    def get(self, request, sar_pk):
        return self.render(self.sar(), RedactionAddForm(), RedactionRemoveForm())

    def post(self, request, sar_pk):
        sar = self.sar()
        add, remove = RedactionAddForm(), RedactionRemoveForm()
        if "remove" in request.POST:
            remove = RedactionRemoveForm(request.POST)
            form, call = (
                remove,
                lambda data: services.sar_redaction_remove(
                    user=request.user, redaction_id=data["redaction"], reason=data["reason"]
                ),
            )
            if remove.is_valid() and not sar.redactions.filter(pk=remove.cleaned_data["redaction"]).exists():
                raise Http404("Page not found")
        else:
            add = RedactionAddForm(request.POST)
            form, call = (
                add,
                lambda data: services.sar_redaction_add(user=request.user, sar_id=sar.pk, **data),
            )
        if form.is_valid():
            try:
                call(form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "Redactions updated")
                return redirect("records:sar_redactions", sar_pk=sar.pk)
        return self.render(sar, add, remove, status=400)

    def render(self, sar, add, remove, status=200):
        records, rows = selectors.sar_redaction_rows(sar)
        record_access_many(
            request=self.request,
            user=self.request.user,
            records=[(record.referral, record.referral.reference) for record in records],
            fields=[f"Subject access request {sar.reference}: redactions in context"],
            channel=AccessLogEntry.Channel.PAGE,
        )
        return render(
            self.request,
            "records/subjectaccessrequest_redactions.html",
            {
                "sar": sar,
                "rows": rows,
                "add_form": add,
                "remove_form": remove,
                "error_forms": [add, remove],
            },
            status=status,
        )


class SubjectAccessSignOffView(_SarMixin, View):
    def get(self, request, sar_pk):
        return self.render(self.sar())

    def post(self, request, sar_pk):
        sar = self.sar()
        try:
            sar, job_id = services.sar_sign_off(user=request.user, sar_id=sar.pk, request=request)
        except ValidationError as error:
            return self.render(sar, error=error.messages[0], status=400)
        except ExportsUnavailable as unavailable:
            return self.render(sar, error=unavailable.message, status=503)
        messages.success(request, f"The pack for {sar.reference} is signed off and being made")
        return redirect("documents:job", pk=job_id)

    def render(self, sar, error=None, status=200):
        return render(
            self.request,
            "records/subjectaccessrequest_sign_off.html",
            {"sar": sar, "error": error, "redaction_count": sum(1 for r in sar.redactions.all() if r.active)},
            status=status,
        )
