from __future__ import annotations

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size
from django import forms

from core.reasons import ReasonValidator
from referrals.forms import GovDateField
from referrals.models import AbuseForm


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.label_size = Size.SMALL
    helper.legend_size = Size.SMALL
    return helper


class LegalHoldForm(forms.Form):
    name = forms.CharField(
        label="Name of the legal hold",
        help_text="For example, the inquiry or claim that asked for the records to be kept",
        max_length=200,
        error_messages={"required": "Enter the name of the legal hold"},
    )
    reason = forms.CharField(
        label="Why the records must be kept",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Enter why the records must be kept"},
        validators=[ReasonValidator("why the records must be kept")],
    )
    references = forms.CharField(
        label="Referrals it names (optional)",
        help_text="Referral references, one a line or separated by commas",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    received_from = GovDateField(
        noun="the start of the date range", label="Referrals received on or after (optional)", required=False
    )
    received_to = GovDateField(
        noun="the end of the date range", label="Referrals received on or before (optional)", required=False
    )
    forms_of_abuse = forms.ModelMultipleChoiceField(
        label="Forms of abuse (optional)",
        help_text="Leave all unticked to cover every form of abuse in the date range",
        queryset=AbuseForm.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean_references(self) -> list[str]:
        raw = self.cleaned_data.get("references") or ""
        return [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]


class LiftHoldForm(forms.Form):
    reason = forms.CharField(
        label="Why the hold is lifted",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Enter why the hold is lifted"},
        validators=[ReasonValidator("why the hold is lifted")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class CandidateDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="What should happen to this record?",
        choices=[
            ("dispose", "Dispose of it"),
            ("extend", "Keep it longer"),
            ("hold", "Keep it under a legal hold"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select what should happen to this record"},
    )
    reason = forms.CharField(
        label="Reason",
        help_text="Needed to keep it longer or under a hold",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    extended_to = GovDateField(
        noun="the date the record is kept until", label="Keep it until", required=False
    )
    hold_name = forms.CharField(
        label="Name of the legal hold",
        help_text="Needed to keep it under a hold",
        required=False,
        max_length=200,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class BatchApprovalForm(forms.Form):
    approve = forms.TypedChoiceField(
        label="Do you approve the disposal of these records?",
        choices=[("yes", "Yes, dispose of them"), ("no", "No, send them back to the review")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you approve the disposal"},
    )
    note = forms.CharField(
        label="Note",
        help_text="Needed if you do not approve",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()
