"""The review workflow pages: thin views over reviews.services and reviews.selectors."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from core.access_log import record_access
from core.forms import apply_service_errors
from core.models import AccessLogEntry
from core.permissions import RoleRequiredMixin
from core.roles import CASE_REVIEW_ROLES
from reviews import panels, selectors, services
from reviews.forms import AssessmentDecisionForm, AssessmentForm, ModerationForm, ReviewForm, ScreeningForm
from reviews.models import CaseAssessment, Review, ScreeningDecision
from reviews.permissions import may_set_up_review, possible_assessors


class ReviewMixin(LoginRequiredMixin):
    """Loads the review in the URL, or 404 for anyone it is not shared with."""

    @cached_property
    def review(self) -> Review:
        try:
            return selectors.reviews_visible_to(user=self.request.user).get(pk=self.kwargs["pk"])
        except Review.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    @property
    def is_lead(self) -> bool:
        return self.review.lead_reviewer_id == self.request.user.pk

    def require_lead(self) -> None:
        if not self.is_lead:
            raise Http404("Page not found")


class ReviewListView(RoleRequiredMixin, TemplateView):
    """The roles whose work touches case reviews (``CASE_REVIEW_ROLES``); a 404 for anyone else."""

    template_name = "reviews/review_list.html"
    roles = CASE_REVIEW_ROLES

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "reviews": selectors.reviews_visible_to(user=user).select_related("lead_reviewer"),
            "can_create": may_set_up_review(user),
            "my_assessments": CaseAssessment.objects.filter(reviewer=user)
            .exclude(status=CaseAssessment.Status.ACCEPTED)
            .select_related("review", "referral"),
        }


class ReviewCreateView(LoginRequiredMixin, View):
    template_name = "reviews/review_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_set_up_review(request.user):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(ReviewForm(lead=request.user))

    def post(self, request):
        form = ReviewForm(request.POST, lead=request.user)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            review = services.review_create(user=request.user, lead_reviewer=request.user, **form.to_kwargs())
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "The review is set up.")
        return HttpResponseRedirect(reverse("reviews:detail", args=[review.pk]))

    def render(self, form, status=200):
        return render(self.request, self.template_name, {"form": form, "error_forms": [form]}, status=status)


def funnel_for(*, user, review: Review) -> dict:
    """The funnel in full: these pages are internal (OFFICIAL-SENSITIVE) and only those who may
    see the review reach them. What is published (the review report's funnel) goes through
    the review's publication (reviews.disclosure)."""
    return {"funnel": selectors.review_funnel(review=review), "funnel_suppressed": None}


class ReviewDetailView(ReviewMixin, TemplateView):
    template_name = "reviews/review_detail.html"

    def get_context_data(self, **kwargs):
        review = self.review
        assessments = list(
            review.assessments.select_related("reviewer", "referral").order_by(
                "referral__received_at", "kind"
            )
        )
        reviewers = list(review.reviewers.all())
        return {
            **super().get_context_data(**kwargs),
            "review": review,
            "is_lead": self.is_lead,
            # The screening page is the lead's and the review's reviewers' (ScreeningView).
            "can_see_screening": self.is_lead or self.request.user in reviewers,
            **funnel_for(user=self.request.user, review=review),
            "periods": list(review.periods.all()),
            "assessments": assessments,
            "reviewers": reviewers,
            **next_step(review),
        }


_NEXT_STEP = {
    Review.Status.PLANNING: ("screening", "Start screening"),
    Review.Status.SCREENING: ("reviewing", "Start reviewing"),
    Review.Status.REVIEWING: ("moderation", "Start moderation"),
    Review.Status.MODERATION: ("reporting", "Move to reporting"),
    Review.Status.REPORTING: ("closed", "Close the review"),
}


#: What the lead reads after each step, as a sentence.
_ADVANCED = {
    "screening": "The review is now in screening.",
    "reviewing": "The review is now in reviewing: cases can be assigned.",
    "moderation": "The review is now in moderation.",
    "reporting": "The review is now in reporting.",
    "closed": "The review is now closed.",
}


def next_step(review: Review) -> dict:
    """The step the lead can take next, offered only when it can be taken; otherwise why not."""
    step = _NEXT_STEP.get(review.status)
    blocker = selectors.moderation_blocker(review=review) if review.status == Review.Status.REVIEWING else ""
    return {"next_step": None if blocker else step, "next_step_blocker": blocker}


class AdvanceView(ReviewMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_lead()  # before the method check: nobody else learns the review exists
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk):
        to = request.POST.get("to", "")
        steps = {
            "screening": lambda: services.review_start_screening(user=request.user, review_id=pk),
            "reviewing": lambda: services.review_start_reviewing(user=request.user, review_id=pk),
            "moderation": lambda: services.review_start_moderation(user=request.user, review_id=pk),
            "reporting": lambda: services.review_advance(user=request.user, review_id=pk, to=to),
            "closed": lambda: services.review_advance(user=request.user, review_id=pk, to=to),
        }
        if to not in steps:
            raise Http404("Page not found")
        try:
            steps[to]()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _ADVANCED[to])
        return redirect("reviews:detail", pk=pk)


class ScreeningView(ReviewMixin, View):
    """Candidates the rules took in: confirm include, or exclude with a reason."""

    template_name = "reviews/review_screening.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not (
            self.is_lead or self.review.reviewers.filter(pk=request.user.pk).exists()
        ):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return self.render(ScreeningForm())

    def post(self, request, pk):
        form = ScreeningForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        decision = self.review.screening.filter(pk=form.cleaned_data["decision_id"]).first()
        if decision is None:
            raise Http404("Page not found")
        try:
            services.screening_decide(
                user=request.user,
                decision_id=decision.pk,
                include=form.cleaned_data["include"] == "include",
                reason=form.cleaned_data.get("reason", ""),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, f"Referral {decision.referral.reference} screened.")
        return redirect("reviews:screening", pk=pk)

    def render(self, form, status=200):
        candidates = (
            self.review.screening.filter(candidate=True)
            .select_related("referral", "period", "decided_by")
            .prefetch_related("referral__forms_of_abuse")
            .order_by("referral__received_at")
        )
        return render(
            self.request,
            self.template_name,
            {
                "review": self.review,
                "candidates": candidates,
                "form": form,
                "error_forms": [form],
                "reasons": ScreeningDecision.Reason.choices,
                **funnel_for(user=self.request.user, review=self.review),
            },
            status=status,
        )


class AssignmentForm(forms.Form):
    # Ids in the database's range: a larger number is refused here, not by the database driver
    # (SQLite's raised OverflowError: a 500).
    referral_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    reviewer = forms.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "required": "Choose a reviewer",
            "min_value": "Choose a reviewer",
            "max_value": "Choose a reviewer",
        },
    )


class AssignmentView(ReviewMixin, View):
    """The lead reviewer assigns each included case to a reviewer."""

    template_name = "reviews/review_assignment.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_lead()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return self.render(AssignmentForm())

    def post(self, request, pk):
        form = AssignmentForm(request.POST)
        people = {u.pk: u for u in self.people()}
        if not form.is_valid() or form.cleaned_data["reviewer"] not in people:
            if form.is_valid():
                form.add_error("reviewer", "Choose one of the review's reviewers")
            return self.render(form, status=400)
        try:
            services.assessment_assign(
                user=request.user,
                review_id=pk,
                referral_id=form.cleaned_data["referral_id"],
                reviewer=people[form.cleaned_data["reviewer"]],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "Case assigned.")
        return redirect("reviews:assignment", pk=pk)

    def people(self):
        """The review's reviewers, never its lead (who accepts their work: reviews.services)."""
        reviewers = possible_assessors(self.review.reviewers.exclude(pk=self.review.lead_reviewer_id))
        return sorted(reviewers, key=lambda u: u.username)

    def render(self, form, status=200):
        included = (
            self.review.screening.filter(decision=ScreeningDecision.Decision.INCLUDE)
            .select_related("referral", "period")
            .order_by("referral__received_at")
        )
        assigned = {
            a.referral_id: a
            for a in self.review.assessments.filter(kind=CaseAssessment.Kind.PRIMARY).select_related(
                "reviewer"
            )
        }
        return render(
            self.request,
            self.template_name,
            {
                "review": self.review,
                "rows": [(s, assigned.get(s.referral_id)) for s in included],
                "people": self.people(),
                "form": form,
                "error_forms": [form],
            },
            status=status,
        )


class AssessmentView(LoginRequiredMixin, View):
    """A reviewer rates a case against the criteria in force when it was referred; the lead
    reviewer accepts it or returns it. Shows the case's identities to grant holders (logged)."""

    template_name = "reviews/assessment_form.html"

    @cached_property
    def assessment(self) -> CaseAssessment:
        user = self.request.user
        assessment = (
            CaseAssessment.objects.select_related("review", "referral", "reviewer")
            .filter(pk=self.kwargs["assessment_pk"])
            .first()
        )
        if assessment is None or user.pk not in (assessment.reviewer_id, assessment.review.lead_reviewer_id):
            raise Http404("Page not found")
        return assessment

    @cached_property
    def page(self) -> selectors.AssessmentPage:
        return selectors.assessment_page(user=self.request.user, assessment=self.assessment)

    def form(self, data=None) -> AssessmentForm:
        page = self.page
        return AssessmentForm(
            data, assessment=page.assessment, rows=page.ratings, exempt_visible=page.exempt_visible
        )

    def get(self, request, assessment_pk):
        return self.render(self.form(), AssessmentDecisionForm())

    def post(self, request, assessment_pk):
        assessment = self.assessment
        if "decide" in request.POST:
            return self.post_decision(request)
        form = self.form(request.POST)
        if not form.is_valid():
            return self.render(form, AssessmentDecisionForm(), status=400)
        try:
            saved = services.assessment_save(
                user=request.user, assessment_id=assessment.pk, **form.to_kwargs()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, AssessmentDecisionForm(), status=400)
        if "submit" in request.POST:
            try:
                services.assessment_submit(
                    user=request.user, assessment_id=saved.pk, expected_version=saved.version
                )
            except ValidationError as error:
                # The work is saved; the page carries the saved version so the next submit works.
                data = request.POST.copy()
                data["version"] = str(saved.version)
                form = self.form(data)
                form.is_valid()
                apply_service_errors(form, error)
                return self.render(form, AssessmentDecisionForm(), status=400)
        messages.success(
            request, "Assessment submitted." if "submit" in request.POST else "Assessment saved."
        )
        return redirect("reviews:assessment", assessment_pk=assessment.pk)

    def post_decision(self, request):
        form = AssessmentDecisionForm(request.POST)
        if not form.is_valid():
            return self.render(self.form(), form, status=400)
        try:
            services.assessment_decide(
                user=request.user,
                assessment_id=self.assessment.pk,
                accept=form.cleaned_data["decision"] == "accept",
                comments=form.cleaned_data.get("comments", ""),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(self.form(), form, status=400)
        messages.success(
            request,
            "Assessment accepted." if form.cleaned_data["decision"] == "accept" else "Assessment returned.",
        )
        return redirect("reviews:detail", pk=self.assessment.review_id)

    def render(self, form, decision_form, status=200):
        page = self.page
        assessment = page.assessment
        user = self.request.user
        # From the apps above (reviews.panels): contexts' link to the case's school. What a
        # panel shows of this case is logged with the page's own read, one row.
        shown_panels = (
            panels.findings_panels(
                request=self.request, review=assessment.review, referral_id=assessment.referral_id
            )
            if page.case
            else []
        )
        panel_fields = [f for panel in shown_panels for f in panel.get("shown_fields", ())]
        if page.exempt_visible or panel_fields:
            record_access(
                request=self.request,
                user=user,
                record=assessment.referral,
                label=assessment.referral.reference,
                fields=sorted({*(page.shown_fields if page.exempt_visible else ()), *panel_fields}),
                channel=AccessLogEntry.Channel.PAGE,
            )
        editable = assessment.reviewer_id == user.pk and assessment.status in (
            CaseAssessment.Status.ASSIGNED,
            CaseAssessment.Status.RETURNED,
        )
        return render(
            self.request,
            self.template_name,
            {
                "assessment": assessment,
                "review": assessment.review,
                "page": page,
                "case": page.case,
                "panels": shown_panels,
                "form": form,
                "decision_form": decision_form,
                "error_forms": [form, decision_form],
                "editable": editable,
                "can_decide": assessment.review.lead_reviewer_id == user.pk
                and assessment.status == CaseAssessment.Status.SUBMITTED,
            },
            status=status,
        )


class ModerationView(ReviewMixin, View):
    """The lead reviewer resolves each disagreement between first and second ratings. After a
    resolution the page comes back at the next unresolved disagreement (its anchor)."""

    template_name = "reviews/review_moderation.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_lead()
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def agreement(self) -> selectors.Agreement:
        return selectors.moderation_agreement(review=self.review)

    @staticmethod
    def legend(disagreement: selectors.Disagreement) -> str:
        first = disagreement.first
        return f"Which rating stands for {first.criterion.code} in {first.assessment.referral.reference}?"

    def get(self, request, pk):
        return self.render()

    def post(self, request, pk):
        by_id = {d.first.pk: d for d in self.agreement.disagreements}
        try:
            disagreement = by_id[int(request.POST.get("disagreement", ""))]
        except (KeyError, ValueError) as missing:
            raise Http404("Page not found") from missing
        form = ModerationForm(
            request.POST, prefix=f"d{disagreement.first.pk}", legend=self.legend(disagreement)
        )
        if form.is_valid() and form.cleaned_data["primary"] != disagreement.first.pk:
            form.add_error(None, "These two ratings are not a first and second rating of the same criterion.")
        if not form.is_valid():
            return self.render(bound=form, status=400)
        try:
            moderation = services.moderation_resolve(
                user=request.user,
                primary_rating_id=disagreement.first.pk,
                second_rating_id=form.cleaned_data["second"],
                resolved_rating=form.cleaned_data["resolved_rating"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(bound=form, status=400)
        first = disagreement.first
        messages.success(
            request,
            f"{first.criterion.code} in {first.assessment.referral.reference} is resolved as "
            f"{moderation.get_resolved_rating_display().lower()}.",
        )
        del self.agreement  # read again, with this resolution
        after = self.agreement.next_unresolved_after(first.pk)
        anchor = after.anchor if after else "disagreements"
        return HttpResponseRedirect(f"{reverse('reviews:moderation', args=[pk])}#{anchor}")

    def render(self, *, bound: ModerationForm | None = None, status: int = 200):
        agreement = self.agreement
        rows = []
        for d in agreement.unresolved:
            prefix = f"d{d.first.pk}"
            if bound is not None and bound.prefix == prefix:
                form = bound
            else:
                form = ModerationForm(
                    prefix=prefix,
                    legend=self.legend(d),
                    initial={"primary": d.first.pk, "second": d.second.pk},
                )
            rows.append((d, form))
        return render(
            self.request,
            self.template_name,
            {
                "review": self.review,
                "agreement": agreement,
                "estimate": agreement.estimate,
                "unresolved": rows,
                "resolved": agreement.resolved,
                "error_forms": [bound] if bound is not None else [],
                "moderation_assessments": self.review.assessments.filter(kind=CaseAssessment.Kind.MODERATION)
                .select_related("reviewer", "referral")
                .order_by("referral__received_at"),
            },
            status=status,
        )
