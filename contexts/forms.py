from __future__ import annotations

from django import forms

from contexts.models import AlertAction, PatternRule
from contexts.services import ActionInput, RuleInput
from core.forms import GovDateField, form_helper, reason_field


class AlertActionForm(forms.Form):
    kind = forms.ChoiceField(
        label="What was done?",
        choices=AlertAction.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what was done"},
    )
    taken_on = GovDateField(noun="the date it was done", label="Date it was done")
    note = forms.CharField(
        label="What was done, or why no action is needed",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        error_messages={"required": "Enter what was done, or why no action is needed"},
        help_text="For example who took part in the strategy discussion and what was agreed",
    )
    #: Required: without it the conflict check would be skipped (the view shows the conflict page).
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, school: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not school:
            self.fields["kind"].choices = [
                c for c in AlertAction.Kind.choices if c[0] != AlertAction.Kind.SCHOOL_ADVICE
            ]
        self.helper = form_helper()

    def to_input(self) -> ActionInput:
        d = self.cleaned_data
        return ActionInput(kind=d["kind"], taken_on=d["taken_on"], note=d["note"])


class RuleForm(forms.Form):
    threshold = forms.IntegerField(
        label="Number of referrals",
        min_value=1,
        max_value=100,
        error_messages={
            "required": "Enter the number of referrals",
            "invalid": "The number of referrals must be a whole number, like 3",
            "min_value": "The number of referrals must be between 1 and 100",
            "max_value": "The number of referrals must be between 1 and 100",
        },
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
    )
    window_months = forms.IntegerField(
        label="Within how many months",
        min_value=1,
        max_value=120,
        error_messages={
            "required": "Enter the number of months",
            "invalid": "The number of months must be a whole number, like 12",
            "min_value": "The number of months must be between 1 and 120",
            "max_value": "The number of months must be between 1 and 120",
        },
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
    )
    sexual_only = forms.BooleanField(
        label="Count only referrals naming a sexual form of abuse", required=False
    )
    active = forms.BooleanField(label="The rule runs", required=False)
    reason = reason_field(
        "Why are you changing this rule?",
        what="why you are changing the rule",
        help_text="It is kept in the rule's history, with your name.",
        max_length=1000,
    )
    #: Required: without it the conflict check would be skipped (the view shows the conflict page).
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    @classmethod
    def initial_for(cls, rule: PatternRule) -> dict:
        return {
            "threshold": rule.threshold,
            "window_months": rule.window_months,
            "sexual_only": rule.sexual_only,
            "active": rule.active,
            "version": rule.version,
        }

    def to_input(self) -> RuleInput:
        d = self.cleaned_data
        return RuleInput(
            threshold=d["threshold"],
            window_months=d["window_months"],
            sexual_only=d["sexual_only"],
            active=d["active"],
            reason=d["reason"],
        )
