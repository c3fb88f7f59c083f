"""Screening, the MASH decision (amended, or authorised by a second manager), closing, reopening."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View

from core import exempt, permissions
from core.forms import apply_service_errors
from core.roles import Role, has_role
from referrals import selectors, services
from referrals.forms import (
    AmendDecisionForm,
    AuthoriseDecisionForm,
    DecisionForm,
    ScreeningForm,
)
from referrals.models import Referral, ReferralDecision
from referrals.permissions import ManagerRequiredMixin
from referrals.views.common import (
    AMEND_SHOWS,
    AUTHORISE_SHOWS,
    ReferralMixin,
    TransitionView,
    nothing_to_do,
)


class ScreeningView(TransitionView):
    template_name = "referrals/referral_screen.html"
    form_class = ScreeningForm
    success_message = "Screening started"

    def act(self, form):
        services.referral_start_screening(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            rag=form.cleaned_data["rag"],
        )


class DecisionView(TransitionView):
    """Record the decision: the form, then a check-your-answers page, then the service.

    Nothing is written until the check page's "Record the decision" is pressed; "Change your
    answers" goes back to the form with everything as it was typed.
    """

    template_name = "referrals/referral_decide.html"
    check_template_name = "referrals/referral_decide_check.html"
    form_class = DecisionForm
    amending = False
    #: Buttons of the check page, never carried back into it as answers.
    STEP_BUTTONS = ("confirm", "change", "csrfmiddlewaretoken")

    def success(self, record: ReferralDecision) -> str:
        if record.status == ReferralDecision.Status.AWAITING_AUTHORISATION:
            return (
                "Decision recorded. A manager must authorise it before it takes effect; "
                "the referrer will be told once it is authorised"
            )
        return "Decision amended" if self.amending else "Decision recorded"

    def post(self, request, pk):
        form = self.form_class(request.POST, **self.form_kwargs())
        if not form.is_valid():
            return self.render(form, status=400)
        if "change" in request.POST:
            return self.render(form)
        try:
            unmet = self.check(form)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        if "confirm" not in request.POST:
            return self.render_check(form, unmet)
        try:
            record = self.act(form)
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, self.success(record))
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def check(self, form):
        return services.decision_check(referral=self.referral, decision=form.to_input())

    def act(self, form):
        return services.referral_record_decision(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            decision=form.to_input(),
        )

    def context(self, form) -> dict:
        return {
            "form": form,
            "referral": self.referral,
            "error_forms": [form],
            "amending": self.amending,
            "expectations": selectors.decision_expectations(referral=self.referral),
        }

    def render(self, form, status=200):
        return render(self.request, self.template_name, self.context(form), status=status)

    def render_check(self, form, unmet):
        data = form.cleaned_data
        answers = [
            (name, value)
            for name, values in self.request.POST.lists()
            if name not in self.STEP_BUTTONS
            for value in values
        ]
        return render(
            self.request,
            self.check_template_name,
            {
                **self.context(form),
                "answers": answers,
                "unmet": unmet,
                "outcomes": list(data["outcomes"]),
                "advice": [label for name, label in form.fields["advice"].choices if name in data["advice"]],
                "needs_authorisation": bool(
                    services.authorisation_rules_for(referral=self.referral, outcomes=list(data["outcomes"]))
                ),
            },
        )


class AmendDecisionView(DecisionView):
    """Amend the decision in force: the form starts from it, every answer as it stands (so an
    amendment changes only what it means to change), with only the amendment's reason empty.
    The page shows the decision's reasons, so it needs what any page showing them needs."""

    form_class = AmendDecisionForm
    amending = True
    needs_exempt = True

    def get(self, request, pk):
        current = self.referral.decisions.in_force().prefetch_related("outcomes").first()
        if current is None or self.referral.status != Referral.Status.DECIDED:
            return nothing_to_do(
                request,
                self.referral,
                "Amend the decision",
                "This referral has no decision in force to amend.",
            )
        initial = {
            "version": self.referral.version,
            "outcomes": list(current.outcomes.all()),
            "advice": [name for name in ReferralDecision.ADVICE_FIELDS if getattr(current, name)],
            "rationale": current.rationale,
            "advice_notes": current.advice_notes,
            "guidance_departure_reason": current.guidance_departure_reason,
            "amendment_reason": "",
        }
        self.log_exempt_read(exempt.shown_fields([current], displayed=AMEND_SHOWS))
        return self.render(self.form_class(initial=initial))

    def check(self, form):
        unmet = super().check(form)
        if not form.cleaned_data.get("amendment_reason", "").strip():
            raise ValidationError({"amendment_reason": "Enter why the decision is being amended"})
        return unmet

    def act(self, form):
        return services.referral_amend_decision(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            decision=form.to_input(),
            reason=form.cleaned_data["amendment_reason"],
        )


class CloseView(TransitionView):
    template_name = "referrals/referral_close.html"
    success_message = "Referral closed"

    def form_kwargs(self):
        return {
            "reason_label": "Why is the referral being closed?",
            "required_message": "Enter why the referral is being closed",
        }

    def act(self, form):
        services.referral_close(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )


class ReopenView(TransitionView):
    """A closed referral has no default grants left; a MASH manager reopens it."""

    template_name = "referrals/referral_reopen.html"
    success_message = "Referral reopened"
    needs_change = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not (
            has_role(request.user, Role.MASH_MANAGER)
            or permissions.has_grant(request.user, self.referral, permissions.CHANGE)
        ):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)

    def form_kwargs(self):
        return {
            "reason_label": "Why is the referral being reopened?",
            "required_message": "Enter why the referral is being reopened",
        }

    def act(self, form):
        services.referral_reopen(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )


class AuthoriseDecisionView(ManagerRequiredMixin, ReferralMixin, View):
    """A MASH manager (never the decision's author) authorises a decision awaiting it, or not."""

    template_name = "referrals/referral_authorise.html"
    needs_exempt = True  # the page shows the decision's reasons

    @cached_property
    def decision(self) -> ReferralDecision:
        decision = selectors.decision_awaiting_authorisation(referral=self.referral)
        if decision is None:
            raise Http404("Page not found")
        return decision

    def get(self, request, pk):
        if selectors.decision_awaiting_authorisation(referral=self.referral) is None:
            return nothing_to_do(
                request,
                self.referral,
                "Authorise the decision",
                "No decision on this referral is awaiting authorisation.",
            )
        self.log_exempt_read(exempt.shown_fields([self.decision], displayed=AUTHORISE_SHOWS))
        return self.render(AuthoriseDecisionForm(initial={"version": self.referral.version}))

    def post(self, request, pk):
        form = AuthoriseDecisionForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            record = services.referral_authorise_decision(
                user=request.user,
                referral_id=self.referral.pk,
                expected_version=form.cleaned_data["version"],
                decision_id=self.decision.pk,
                authorise=form.cleaned_data["authorise"],
                note=form.cleaned_data["note"],
            )
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        if record.status == ReferralDecision.Status.IN_FORCE:
            messages.success(request, "Decision authorised. The referrer will be told")
        else:
            messages.success(request, "Decision not authorised. It has not taken effect")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        decision = self.decision
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "referral": self.referral,
                "decision": decision,
                "own_decision": decision.decided_by_id == self.request.user.pk,
                "error_forms": [form],
            },
            status=status,
        )
