"""Scrutiny forms: input shape and GOV.UK wording. The rules live in scrutiny.services."""

from __future__ import annotations

from django import forms

from core.forms import GovDateField, form_helper, reason_field
from guidance.models import GuidanceDocument
from reviews.models import Review, ReviewRecommendation
from scrutiny import selectors
from scrutiny.models import (
    Action,
    AgendaItem,
    Appendix,
    CabinetReport,
    DecisionRecord,
    EvidenceLink,
    Meeting,
    Recommendation,
    Response,
)

TEXTAREA = {"rows": 4}


class GovForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class VersionedForm(GovForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


def _radios(choices, label, message, **kwargs):
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect, error_messages={"required": message}, **kwargs
    )


class RecommendationForm(GovForm):
    source = _radios(
        Recommendation.Source.choices,
        "Where does it come from?",
        "Select where the recommendation comes from",
    )
    text = forms.CharField(
        label="Recommendation",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter the recommendation"},
    )
    agenda_item = forms.ModelChoiceField(
        label="Agenda item (optional)", queryset=AgendaItem.objects.all(), required=False
    )
    meeting = forms.ModelChoiceField(
        label="Scrutiny meeting",
        help_text="For a scrutiny committee's recommendation: it is numbered in that meeting's order",
        queryset=Meeting.objects.filter(committee__kind="scrutiny").select_related("committee"),
        required=False,
    )
    review_recommendation = forms.ModelChoiceField(
        label="Case review recommendation",
        queryset=ReviewRecommendation.objects.select_related("review"),
        required=False,
    )
    source_reference = forms.CharField(
        label="Audit or report",
        help_text="For example NSPCC audit 2020, or the April 2017 report",
        required=False,
    )


class RecommendationEditForm(VersionedForm):
    text = forms.CharField(
        label="Recommendation",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter the recommendation"},
    )
    status = _radios(Recommendation.Status.choices, "Status", "Select the status")
    agenda_item = forms.ModelChoiceField(
        label="Agenda item (optional)", queryset=AgendaItem.objects.all(), required=False
    )


class ResponseForm(VersionedForm):
    decision = _radios(
        Response.Decision.choices, "Executive response", "Select whether the recommendation is accepted"
    )
    text = forms.CharField(
        label="Response",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter the response"},
    )
    responded_by = forms.CharField(
        label="Responded by",
        help_text="For example Cabinet member children and families",
        error_messages={"required": "Enter who responded"},
    )
    responded_on = GovDateField(label="Date of the response", noun="the date of the response")


class ActionForm(VersionedForm):
    description = forms.CharField(
        label="What will be done",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter what will be done"},
    )
    owner = forms.CharField(
        label="Owner",
        help_text="A named officer or team",
        error_messages={"required": "Enter who owns the action"},
    )
    due_date = GovDateField(label="Due date", noun="the due date")


class ActionEditForm(ActionForm):
    status = _radios(Action.Status.choices, "Status", "Select the status")
    completed_on = GovDateField(label="Date completed (if done)", noun="the date completed", required=False)


class ProgressForm(VersionedForm):
    date = GovDateField(label="Date of the update", noun="the date of the update")
    percent_complete = forms.IntegerField(
        label="Progress (per cent)",
        min_value=0,
        max_value=100,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "required": "Enter the progress as a percentage",
            "invalid": "Progress must be a whole number, like 50",
            "min_value": "Progress must be between 0 and 100 per cent",
            "max_value": "Progress must be between 0 and 100 per cent",
        },
    )
    text = forms.CharField(
        label="What has happened",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter what has happened"},
    )


class EvidenceForm(GovForm):
    kind = _radios(EvidenceLink.Kind.choices, "What is the evidence?", "Select what the evidence is")
    label = forms.CharField(
        label="Short description", error_messages={"required": "Enter a short description of the evidence"}
    )
    review = forms.ModelChoiceField(label="Case review", queryset=Review.objects.all(), required=False)
    guidance_document = forms.ModelChoiceField(
        label="Guidance document", queryset=GuidanceDocument.objects.all(), required=False
    )
    path = forms.CharField(
        label="Page in this service", help_text="Starting with /, like /guidance/", required=False
    )
    note = forms.CharField(label="Note (optional)", widget=forms.Textarea(attrs=TEXTAREA), required=False)


class ReportForm(VersionedForm):
    agenda_item = forms.ModelChoiceField(
        label="Agenda item",
        queryset=AgendaItem.objects.all(),
        error_messages={"required": "Select the agenda item"},
    )
    meeting = forms.ModelChoiceField(
        label="Meeting",
        queryset=Meeting.objects.select_related("committee"),
        error_messages={"required": "Select the meeting the report goes to"},
    )
    title = forms.CharField(
        label="Title of report", error_messages={"required": "Enter the title of the report"}
    )
    report_by = forms.CharField(label="Report by", error_messages={"required": "Enter who the report is by"})
    decision_type = _radios(
        CabinetReport.DecisionType.choices, "Decision type", "Select whether this is a key decision"
    )
    wards_affected = forms.CharField(label="Wards affected", required=False)
    purpose = forms.CharField(
        label="Purpose",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter the purpose of the report"},
    )
    recommendations = forms.CharField(
        label="Recommendations",
        help_text="One a line; they are lettered (a), (b) ... in order",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter at least one recommendation"},
    )
    background_papers = forms.CharField(label="Background papers", required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["agenda_item"], self.fields["meeting"]
        else:
            self.fields["version"].required = False
        for key, heading in CabinetReport.NUMBERED_SECTIONS:
            self.fields[key] = forms.CharField(
                label=heading,
                required=False,
                widget=forms.Textarea(attrs={"rows": 6}),
                help_text="Paragraphs are separated by a blank line and numbered on from the section before."
                " Start a paragraph with (a) for a lettered item, or with > to continue without a number",
            )
        # Keep the report's order: the numbered sections before background papers.
        papers = self.fields.pop("background_papers")
        self.fields["background_papers"] = papers

    def values(self) -> dict:
        data = self.cleaned_data
        return {k: v for k, v in data.items() if k not in ("version", "agenda_item", "meeting")}


PARAGRAPHS = [("", "Select a paragraph")] + [
    (str(n), f"{n}. {text}") for n, text in selectors.SCHEDULE_12A.items()
]


class AppendixForm(VersionedForm):
    kind = _radios(Appendix.Kind.choices, "What kind of appendix?", "Select what kind of appendix this is")
    title = forms.CharField(label="Title", error_messages={"required": "Enter the title of the appendix"})
    review = forms.ModelChoiceField(
        label="Case review",
        help_text="For a generated review appendix",
        queryset=Review.objects.all(),
        required=False,
    )
    guidance_version = forms.ModelChoiceField(
        label="Model guidance version (for model guidance)",
        help_text="The version put to the meeting, for example one submitted for approval. Leave blank "
        "for the published version.",
        queryset=None,
        required=False,
    )
    text = forms.CharField(
        label="Text (for a text appendix)", widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    upload = forms.FileField(label="PDF file (for an uploaded appendix)", required=False)
    exempt = forms.BooleanField(label="Exempt from publication (Schedule 12A)", required=False)
    schedule_12a_paragraph = forms.TypedChoiceField(
        label="Paragraph of Schedule 12A", choices=PARAGRAPHS, coerce=int, empty_value=None, required=False
    )
    public_interest = forms.CharField(
        label="Public interest statement",
        help_text="Why the public interest in keeping it exempt outweighs that in disclosing it",
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        from scrutiny import extensions

        super().__init__(*args, **kwargs)
        # The versions a report may carry, as the model guidance app says (scrutiny.extensions);
        # without it, none (an empty queryset of scrutiny's own: it knows no model above it).
        source = extensions.appendix_source(Appendix.Kind.MODEL_GUIDANCE)
        self.fields["guidance_version"].queryset = (
            source.choices() if source is not None else Appendix.objects.none()
        )


class GrantForm(GovForm):
    user = forms.ModelChoiceField(
        label="Person", queryset=None, error_messages={"required": "Select the person"}
    )
    reason = reason_field(
        "Why they need the exempt appendices",
        what="why this person needs the exempt appendices",
        help_text="At least 20 characters and 3 words",
        rows=4,
    )
    expires_on = GovDateField(
        label="Access ends on",
        noun="the date access ends",
        help_text="At most 90 days from today. For example, 27 3 2027",
    )

    def __init__(self, *args, grantor=None, **kwargs):
        from django.contrib.auth import get_user_model

        from core.roles import GROUP_NAMES
        from scrutiny.permissions import READERS

        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(
            is_active=True, groups__name__in=[GROUP_NAMES[r] for r in READERS]
        )
        if grantor is not None:  # nobody grants to themselves (the service refuses it too)
            people = people.exclude(pk=grantor.pk)
        self.fields["user"].queryset = people.distinct().order_by("username")
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class DecisionForm(VersionedForm):
    decision_text = forms.CharField(
        label="Decision",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "Enter the decision"},
    )
    status = _radios(DecisionRecord.Status.choices, "Status", "Select the status of the decision")
    key_decision = forms.BooleanField(label="This is a key decision", required=False)
    call_in = _radios(DecisionRecord.CallIn.choices, "Call-in", "Select where the decision stands on call-in")
    call_in_exemption_reason = forms.CharField(
        label="Why the key decision is urgent (if it is not subject to call-in)",
        help_text="A key decision is subject to call-in unless any delay would seriously prejudice the "
        "council's or the public's interests, and the chair of the scrutiny committee agrees.",
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
    )
    call_in_exemption_agreed_by = forms.CharField(
        label="Chair of the scrutiny committee who agreed it is urgent",
        help_text="Their name, for example Councillor Jane Smith",
        max_length=200,
        required=False,
    )
    published_on = GovDateField(
        label="Date published", noun="the date the decision was published", required=False
    )
    effective_on = GovDateField(
        label="Date it takes effect", noun="the date the decision takes effect", required=False
    )
    decision_maker = _radios(
        DecisionRecord.DecisionMaker.choices, "Who made the decision", "Select who made the decision"
    )
    decision_maker_name = forms.CharField(
        label="Title of the decision maker",
        help_text="For example Cabinet member children and families. Leave blank for the cabinet.",
        required=False,
    )
    delegation = forms.CharField(
        label="Delegated power (for an officer's decision)",
        help_text="The delegation the officer acted under, as the constitution names it.",
        required=False,
    )
    decided_on = GovDateField(label="Date of the decision", noun="the date of the decision", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = False


class ReportPublishForm(VersionedForm):
    """No date field: a version is dated the day it is published (by the system)."""

    kind = _radios(
        [("supplement", "A supplement (more papers)"), ("correction", "A correction")],
        "What is this version?",
        "Select whether this is a supplement or a correction",
        required=False,
    )
    reason = forms.CharField(
        label="Why the papers changed",
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
    )
    urgency_reasons = forms.CharField(
        label="The chair's reasons for considering the papers as a matter of urgency",
        help_text="The special circumstances, as the minutes will record them",
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={
            "required": "Enter the chair's reasons for considering the papers as a matter of urgency"
        },
    )
    urgency_agreed_by = forms.CharField(
        label="Chair of the meeting who agreed",
        help_text="Their name, for example Councillor Jane Smith",
        max_length=200,
        error_messages={"required": "Enter the name of the chair who agreed the papers are urgent"},
    )

    def __init__(self, *args, later: bool = False, late: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not later:
            del self.fields["kind"]
            del self.fields["reason"]
        if not late:
            del self.fields["urgency_reasons"]
            del self.fields["urgency_agreed_by"]
