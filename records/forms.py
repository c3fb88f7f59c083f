from __future__ import annotations

from django import forms

from core.forms import GovDateField, ModelMultipleChoiceField, form_helper, reason_field
from records.models import Redaction, SubjectAccessRequest
from referrals.models import AbuseForm


class _Form(forms.Form):
    """Every records form: the service's shared crispy-forms-gds settings."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class LegalHoldForm(_Form):
    name = forms.CharField(
        label="Name of the legal hold",
        help_text="For example, the inquiry or claim that asked for the records to be kept",
        max_length=200,
        error_messages={"required": "Enter the name of the legal hold"},
    )
    reason = reason_field("Why the records must be kept", rows=4)
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
    forms_of_abuse = ModelMultipleChoiceField(
        label="Forms of abuse (optional)",
        help_text="Leave all unticked to cover every form of abuse in the date range",
        queryset=AbuseForm.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_references(self) -> list[str]:
        raw = self.cleaned_data.get("references") or ""
        return [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]


class LiftHoldForm(_Form):
    """The first officer proposes lifting the hold; a second one decides."""

    reason = reason_field("Why the hold should be lifted")


class LiftDecisionForm(_Form):
    approve = forms.TypedChoiceField(
        label="Do you approve lifting this legal hold?",
        choices=[("yes", "Yes, lift the hold"), ("no", "No, keep the hold in force")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you approve lifting the hold"},
    )
    note = forms.CharField(
        label="Note",
        help_text="Needed if you do not approve: why the hold stays",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class CandidateDecisionForm(_Form):
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


class BatchApprovalForm(_Form):
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


class SubjectAccessRequestForm(_Form):
    reference = forms.CharField(
        label="Referral the child appears in",
        help_text="The referral's reference, for example MASH-2026-00012",
        max_length=20,
        error_messages={"required": "Enter the reference of a referral the child appears in"},
    )
    label = forms.CharField(
        label="The child's label in that referral",
        help_text="For example A",
        max_length=3,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-2"}),
        error_messages={"required": "Enter the child's label in the referral"},
    )
    requester_name = forms.CharField(
        label="Name of the person making the request",
        max_length=200,
        error_messages={"required": "Enter the name of the person making the request"},
    )
    relation = forms.ChoiceField(
        label="Their relation to the child",
        choices=SubjectAccessRequest.Relation.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the requester's relation to the child"},
    )
    identity_verified = forms.CharField(
        label="How their identity was verified",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Enter how the requester's identity was verified"},
    )
    received_on = GovDateField(
        noun="the date the request was received", label="Date the request was received"
    )


class ExtendForm(_Form):
    extended_to = GovDateField(noun="the new date the response is due", label="New date the response is due")
    reason = reason_field("Why the response needs longer")


class RedactionAddForm(_Form):
    text = forms.CharField(
        label="Text to withhold",
        help_text="It is withheld wherever it appears in the pack",
        max_length=500,
        error_messages={"required": "Enter the text to withhold"},
    )
    code = forms.ChoiceField(
        label="Exemption",
        choices=Redaction.Code.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the exemption that applies"},
    )
    reason = reason_field("Why it is withheld")


class RedactionRemoveForm(_Form):
    redaction = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    reason = reason_field("Why it is disclosed", rows=2)
