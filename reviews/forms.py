"""Review forms: input shape and GOV.UK wording. The rules live in reviews.services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.html import escape

from core.forms import GovDateField, ModelMultipleChoiceField, form_helper
from core.roles import GROUP_NAMES, Role
from referrals.models import AbuseForm
from reviews import services
from reviews.models import CaseAssessment, CriterionRating, ScreeningDecision
from reviews.permissions import possible_assessors

PERIOD_ROWS = 3


class ReviewForm(forms.Form):
    title = forms.CharField(
        label="Title", max_length=200, error_messages={"required": "Enter the title of the review"}
    )
    terms_of_reference = forms.CharField(
        label="Terms of reference",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter the terms of reference"},
    )
    reviewers = ModelMultipleChoiceField(
        label="Reviewers",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one reviewer"},
    )
    include_forms = ModelMultipleChoiceField(
        label="Forms of abuse in scope",
        help_text="Leave all unticked to include every form",
        queryset=AbuseForm.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    require_peer_on_peer = forms.BooleanField(
        label="Only peer-on-peer referrals", required=False, initial=True
    )
    require_same_school = forms.BooleanField(
        label="Only where a victim and an alleged perpetrator attend the same school",
        required=False,
        initial=True,
    )
    moderation_share = forms.IntegerField(
        label="Share of cases moderated (per cent)",
        min_value=0,
        max_value=100,
        initial=20,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "required": "Enter the share of cases moderated",
            "invalid": "The share moderated must be a whole number, like 20",
            "min_value": "The share moderated must be between 0 and 100 per cent",
            "max_value": "The share moderated must be between 0 and 100 per cent",
        },
    )
    grants_end_on = GovDateField(
        noun="the date reviewers' access ends",
        label="Reviewers' access to identities ends on",
        help_text="Access also ends when the review closes. For example, 31 3 2027",
    )

    def __init__(self, *args, lead=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.fields["reviewers"].queryset = (
            possible_assessors(  # the lead and administrators assess nothing (reviews.permissions)
                get_user_model()
                .objects.filter(
                    groups__name__in=[GROUP_NAMES[Role.REVIEWER], GROUP_NAMES[Role.LEAD_REVIEWER]]
                )
                .exclude(pk=getattr(lead, "pk", None))
            )
            .distinct()
            .order_by("username")
        )
        self.fields["reviewers"].label_from_instance = lambda u: u.get_full_name() or u.username
        for index in range(PERIOD_ROWS):
            required = index == 0
            self.fields[f"period_{index}_name"] = forms.CharField(
                label=f"Period {index + 1} name",
                required=required,
                max_length=100,
                error_messages={"required": "Enter a name for the first period"},
            )
            self.fields[f"period_{index}_start"] = GovDateField(
                noun=f"the start of period {index + 1}",
                label=f"Period {index + 1} starts on",
                required=required,
            )
            self.fields[f"period_{index}_end"] = GovDateField(
                noun=f"the end of period {index + 1}", label=f"Period {index + 1} ends on", required=required
            )

    def period_rows(self):
        return [
            (self[f"period_{i}_name"], self[f"period_{i}_start"], self[f"period_{i}_end"])
            for i in range(PERIOD_ROWS)
        ]

    def clean(self):
        data = super().clean()
        for index in range(PERIOD_ROWS):
            parts = [data.get(f"period_{index}_{k}") for k in ("name", "start", "end")]
            if any(parts) and not all(parts):
                self.add_error(f"period_{index}_name", f"Enter the name, start and end of period {index + 1}")
        return data

    def to_kwargs(self) -> dict:
        d = self.cleaned_data
        periods = [
            services.PeriodInput(d[f"period_{i}_name"], d[f"period_{i}_start"], d[f"period_{i}_end"])
            for i in range(PERIOD_ROWS)
            if d.get(f"period_{i}_name")
        ]
        return {
            "title": d["title"],
            "terms_of_reference": d["terms_of_reference"],
            "reviewers": list(d["reviewers"]),
            "include_forms": list(d["include_forms"]),
            "require_peer_on_peer": d["require_peer_on_peer"],
            "require_same_school": d["require_same_school"],
            "moderation_share": d["moderation_share"],
            "grants_end_on": d["grants_end_on"],
            "periods": periods,
        }


class ScreeningForm(forms.Form):
    decision_id = forms.IntegerField(widget=forms.HiddenInput)
    include = forms.ChoiceField(
        choices=[("include", "Include"), ("exclude", "Exclude")],
        error_messages={"required": "Select include or exclude"},
    )
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *ScreeningDecision.Reason.choices], required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("include") == "exclude" and not data.get("reason"):
            self.add_error("reason", "Select why the case is excluded")
        return data


class AssessmentForm(forms.Form):
    """One rating and evidence note per criterion, then the overall assessment."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    advice_matched = forms.ChoiceField(
        label="Did the advice MASH recorded match the guidance in force?",
        choices=CaseAssessment.AdviceMatch.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    overall_judgement = forms.ChoiceField(
        label="Overall judgement",
        choices=CaseAssessment.Judgement.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    good_practice = forms.CharField(
        label="Good practice", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    areas_for_improvement = forms.CharField(
        label="Areas for improvement", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, assessment: CaseAssessment, rows, exempt_visible: bool, **kwargs):
        """``assessment`` and ``rows`` (its ratings) come from ``reviews.selectors.assessment_page``:
        masked for a viewer who may not see exempt information, who gets no free-text field at
        all (nothing exempt in the page's initial values, and a save keeps what is stored)."""
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.assessment = assessment
        self.rows = list(rows)
        self.free_text = exempt_visible
        if not exempt_visible:
            del self.fields["good_practice"]
            del self.fields["areas_for_improvement"]
        if not self.is_bound:
            self.initial.update(
                version=assessment.version,
                advice_matched=assessment.advice_matched,
                overall_judgement=assessment.overall_judgement,
            )
            if exempt_visible:
                self.initial.update(
                    good_practice=assessment.good_practice,
                    areas_for_improvement=assessment.areas_for_improvement,
                )
        for row in self.rows:
            self.fields[f"rating_{row.criterion_id}"] = forms.ChoiceField(
                # crispy-forms-gds renders labels unescaped: the criterion text is escaped here.
                label=escape(f"{row.criterion.code}: {row.criterion.text}"),
                choices=CriterionRating.Rating.choices,
                widget=forms.RadioSelect,
                required=False,
                initial=row.rating,
            )
            if exempt_visible:
                self.fields[f"evidence_{row.criterion_id}"] = forms.CharField(
                    label=escape(f"Evidence for {row.criterion.code}"),
                    widget=forms.Textarea(attrs={"rows": 2}),
                    required=False,
                    initial=row.evidence,
                )

    def criterion_fields(self):
        """(rating row, rating field, evidence field or None without the free text)."""
        return [
            (
                row,
                self[f"rating_{row.criterion_id}"],
                self[f"evidence_{row.criterion_id}"] if self.free_text else None,
            )
            for row in self.rows
        ]

    def to_kwargs(self) -> dict:
        """The service's arguments. Without the free text, ``None``: the stored text is kept."""
        d = self.cleaned_data
        text = (lambda name: d.get(name, "")) if self.free_text else (lambda name: None)
        return {
            "expected_version": d["version"],
            "ratings": {
                row.criterion_id: services.RatingInput(
                    d.get(f"rating_{row.criterion_id}", ""), text(f"evidence_{row.criterion_id}")
                )
                for row in self.rows
            },
            "advice_matched": d.get("advice_matched", ""),
            "overall_judgement": d.get("overall_judgement", ""),
            "good_practice": text("good_practice"),
            "areas_for_improvement": text("areas_for_improvement"),
        }


class AssessmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("accept", "Accept the assessment"), ("return", "Return it to the reviewer")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select accept or return"},
    )
    comments = forms.CharField(
        label="Comments for the reviewer", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class ModerationForm(forms.Form):
    """The lead reviewer's resolution of one disagreement. No rating is chosen for them: the
    radios start empty, whatever either reviewer said."""

    primary = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    second = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    resolved_rating = forms.ChoiceField(
        label="Which rating stands?",
        choices=CriterionRating.Rating.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the rating that stands",
            "invalid_choice": "Select the rating that stands",
        },
    )

    def __init__(self, *args, legend: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        if legend:
            self.fields["resolved_rating"].label = legend


class ThemeForm(forms.Form):
    theme_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(
        label="Title", max_length=200, error_messages={"required": "Enter the title of the theme"}
    )
    text = forms.CharField(
        label="What the review found",
        help_text="This is published in the review report: do not name or describe a child, family or school",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter what the review found under this theme"},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "theme")
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class RecommendationForm(forms.Form):
    recommendation_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = forms.IntegerField(
        label="Recommendation number",
        help_text="Leave empty to number it after the last one",
        required=False,
        min_value=1,
        max_value=999,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "invalid": "The number must be a whole number, like 3",
            "min_value": "The number must be 1 or more",
            "max_value": "The number must be 999 or less",
        },
    )
    text = forms.CharField(
        label="Recommendation",
        help_text="This is published in the review report",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the recommendation"},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "recommendation")
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
