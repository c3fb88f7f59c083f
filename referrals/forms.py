"""Forms: input shape and GOV.UK error wording. Business rules live in services."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from crispy_forms_gds.layout import Size
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.forms import GovDateField, ModelMultipleChoiceField, form_helper, reason_field
from core.roles import GROUP_NAMES, Role
from core.timescales import local_zone
from referrals import services
from referrals.models import (
    AbuseForm,
    CaseNote,
    Child,
    Outcome,
    RagLevel,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralSource,
    School,
)

YES_NO = ((True, "Yes"), (False, "No"))
TIME_RE = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def _yes_no(label: str, required_message: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda v: v in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
        error_messages={"required": required_message},
        help_text=help_text,
    )


class ReferralForm(forms.Form):
    received_date = GovDateField(
        noun="the date the referral was received",
        label="Date the referral was received",
        help_text="For example, 27 3 2019",
    )
    received_time = forms.CharField(
        label="Time the referral was received",
        help_text="Use the 24-hour clock, for example 14:30",
        error_messages={"required": "Enter the time the referral was received"},
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-5", "inputmode": "numeric"}),
    )
    source = forms.ModelChoiceField(
        label="Who made the referral",
        queryset=ReferralSource.objects.filter(active=True),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Select who made the referral"},
    )
    forms_of_abuse = ModelMultipleChoiceField(
        label="Forms of abuse",
        help_text="Select all that apply",
        queryset=AbuseForm.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one form of abuse"},
    )
    is_peer_on_peer = _yes_no(
        "Is this peer-on-peer (child-on-child) abuse?",
        "Select yes if one child is alleged to have harmed another",
    )
    incident_date = GovDateField(noun="the date of the incident", label="Date of the incident")
    location = forms.ChoiceField(
        label="Where did it happen?",
        choices=Referral.Location.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where it happened"},
    )
    incident_place = forms.CharField(
        label="Name of the place (optional)",
        max_length=200,
        required=False,
        help_text="For example the name of a park, a shopping centre or a bus route",
    )
    consent_sought = _yes_no(
        "Was consent to the referral sought?",
        "Select yes if consent to the referral was sought",
        help_text="Seek consent unless doing so would increase the risk to a child",
    )
    consent_not_sought_reason = forms.CharField(
        label="Why was consent not sought?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    referrer_name = forms.CharField(
        label="Referrer's name",
        max_length=200,
        error_messages={"required": "Enter the referrer's name"},
    )
    referrer_role = forms.CharField(label="Referrer's role", max_length=200, required=False)
    referrer_organisation = forms.CharField(label="Referrer's organisation", max_length=200, required=False)
    referrer_contact = forms.CharField(
        label="Referrer's telephone number or email address",
        max_length=200,
        required=False,
        help_text="Feedback on the decision is e-mailed to an email address given here",
    )
    narrative = forms.CharField(
        label="What was reported",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter what was reported"},
    )

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    def clean_received_time(self) -> dt.time:
        match = TIME_RE.match(self.cleaned_data["received_time"])
        if not match:
            raise ValidationError("Enter the time the referral was received in the format 14:30")
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValidationError("Enter a real time, for example 14:30")
        return dt.time(hour, minute)

    def clean(self):
        data = super().clean()
        received_date = data.get("received_date")
        received_time = data.get("received_time")
        if received_date and received_time:
            data["received_at"] = dt.datetime.combine(received_date, received_time, tzinfo=local_zone())
            if data.get("incident_date"):
                errors = services.validate_referral_dates(
                    received_at=data["received_at"], incident_date=data["incident_date"]
                )
                if "received_at" in errors:
                    self.add_error("received_date", errors["received_at"])
                if "incident_date" in errors:
                    self.add_error("incident_date", errors["incident_date"])
        if "consent_sought" in data:
            message = services.validate_consent(
                consent_sought=data["consent_sought"], reason=data.get("consent_not_sought_reason", "")
            )
            if message:
                self.add_error("consent_not_sought_reason", message)
        return data

    def to_input(self) -> services.ReferralInput:
        d = self.cleaned_data
        return services.ReferralInput(
            received_at=d["received_at"],
            source=d["source"],
            forms_of_abuse=list(d["forms_of_abuse"]),
            is_peer_on_peer=d["is_peer_on_peer"],
            incident_date=d["incident_date"],
            location=d["location"],
            consent_sought=d["consent_sought"],
            consent_not_sought_reason=d.get("consent_not_sought_reason", ""),
            referrer_name=d["referrer_name"],
            referrer_role=d.get("referrer_role", ""),
            referrer_organisation=d.get("referrer_organisation", ""),
            referrer_contact=d.get("referrer_contact", ""),
            narrative=d["narrative"],
            incident_place=d.get("incident_place", ""),
        )

    @classmethod
    def initial_for(cls, referral: Referral) -> dict:
        received = timezone.localtime(referral.received_at)
        detail = referral.detail
        return {
            "received_date": received.date(),
            "received_time": received.strftime("%H:%M"),
            "source": referral.source_id,
            "forms_of_abuse": list(referral.forms_of_abuse.all()),
            "is_peer_on_peer": referral.is_peer_on_peer,
            "incident_date": referral.incident_date,
            "location": referral.location,
            "consent_sought": referral.consent_sought,
            "consent_not_sought_reason": detail.consent_not_sought_reason,
            "referrer_name": detail.referrer_name,
            "referrer_role": detail.referrer_role,
            "referrer_organisation": detail.referrer_organisation,
            "referrer_contact": detail.referrer_contact,
            "narrative": detail.narrative,
            "incident_place": detail.incident_place,
            "version": referral.version,
        }


#: The referral form's sections, in the order the page asks them: (id, title, fields). The page
#: lists them at the top, each linking to its heading, with its status (``form_sections``).
REFERRAL_SECTIONS = (
    ("received", "Referral received", ("received_date", "received_time", "source")),
    (
        "incident",
        "What happened",
        ("forms_of_abuse", "is_peer_on_peer", "incident_date", "location", "incident_place"),
    ),
    ("consent", "Consent", ("consent_sought", "consent_not_sought_reason")),
    (
        "referrer",
        "Referrer and what was reported",
        ("referrer_name", "referrer_role", "referrer_organisation", "referrer_contact", "narrative"),
    ),
)
CHILDREN_SECTION = ("children", "Children")


@dataclass(frozen=True)
class FormSection:
    """One section of a long form, as the contents at its top shows it."""

    ERROR, COMPLETE, INCOMPLETE, NOT_STARTED = "error", "complete", "incomplete", "not_started"
    LABELS = {
        ERROR: "There is a problem",
        COMPLETE: "Completed",
        INCOMPLETE: "Incomplete",
        NOT_STARTED: "Not yet started",
    }

    slug: str
    title: str
    number: int
    status: str

    @property
    def status_label(self) -> str:
        return self.LABELS[self.status]


def _filled(field, value) -> bool:
    """Whether a form field has an answer, bound (as typed) or not (its initial value)."""
    if value is None:
        return False
    if field is not None and isinstance(field.widget, forms.CheckboxInput):
        return bool(value)  # a box left unticked is not an answer
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        parts = [_filled(None, part) for part in value]
        if field is not None and isinstance(field.widget, forms.MultiWidget):
            return bool(parts) and all(parts)  # a date needs its day, month and year
        return any(parts)
    return True  # a date, a number, a choice


def _status(form: forms.Form, names, *, show_errors: bool, extra_required=()) -> str:
    if show_errors and form.is_bound and any(form.errors.get(name) for name in names):
        return FormSection.ERROR
    answered = {name for name in names if _filled(form.fields[name], form[name].value())}
    required = {name for name in names if form.fields[name].required} | set(extra_required)
    if required <= answered:
        return FormSection.COMPLETE
    return FormSection.INCOMPLETE if answered else FormSection.NOT_STARTED


def form_sections(
    form: forms.Form, children: forms.BaseFormSet | None = None, *, show_errors: bool = True
) -> list[FormSection]:
    """The referral form's sections with their status: "There is a problem" after a submit that
    failed (``show_errors``), otherwise complete, incomplete or not started from what is typed
    in it (or what it starts with). With ``children``, the new referral form's children too."""
    sections = []
    for number, (slug, title, names) in enumerate(REFERRAL_SECTIONS, start=1):
        extra = ()
        if slug == "consent" and str(form["consent_sought"].value()) == "False":
            extra = ("consent_not_sought_reason",)
        sections.append(
            FormSection(
                slug, title, number, _status(form, names, show_errors=show_errors, extra_required=extra)
            )
        )
    if children is not None:
        sections.append(
            FormSection(*CHILDREN_SECTION, len(sections) + 1, _children_status(form, children, show_errors))
        )
    return sections


def _children_status(form: forms.Form, children: forms.BaseFormSet, show_errors: bool) -> str:
    if (
        show_errors
        and form.is_bound
        and (
            form.non_field_errors()
            or children.non_form_errors()
            or any(child.errors for child in children.forms)
        )
    ):
        return FormSection.ERROR
    names = [name for name in ChildForm.base_fields if name != "role"]
    rows = [
        child for child in children.forms if any(_filled(child.fields[n], child[n].value()) for n in names)
    ]
    if not rows:
        return FormSection.NOT_STARTED
    roles = {str(child["role"].value()) for child in rows}
    done = all(
        _status(child, list(ChildForm.base_fields), show_errors=False) == FormSection.COMPLETE
        for child in rows
    )
    # A peer-on-peer referral needs a victim and an alleged perpetrator (services.validate_roles).
    wanted = set()
    if str(form["is_peer_on_peer"].value()) != "False":
        wanted = {ReferralChild.Role.VICTIM.value, ReferralChild.Role.ALLEGED_PERPETRATOR.value}
    return FormSection.COMPLETE if done and wanted <= roles else FormSection.INCOMPLETE


class ChildForm(forms.Form):
    """One child on a referral: a new person record, or an existing one offered as a match."""

    NEW = "new"

    role = forms.ChoiceField(
        label="Role in this referral",
        choices=ReferralChild.Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the child's role in this referral"},
    )
    first_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter the child's first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter the child's last name"}
    )
    date_of_birth = GovDateField(noun="the child's date of birth", label="Date of birth")
    gender = forms.ChoiceField(
        label="Gender",
        choices=Child.Gender.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the child's gender, or not known"},
    )
    school = forms.ModelChoiceField(
        label="School or college",
        queryset=School.objects.filter(active=True),
        required=False,
        empty_label="Not known or not in school",
    )
    year_group = forms.ChoiceField(
        label="Year group", choices=[("", "Not known"), *Child.YearGroup.choices], required=False
    )
    send = forms.BooleanField(label="Has special educational needs or a disability", required=False)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}),
    )
    # Choices are offered only when a match is found; the view checks the answer against them.
    existing_child = forms.CharField(
        label="Is this the same child?", required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, incident_date: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident_date = incident_date
        self.matches: list[Child] = []
        self.helper = form_helper()

    def offer_matches(self, matches: list[Child]) -> None:
        """Ask whether a new child is one already on record (same name and date of birth)."""
        self.matches = matches
        choices = [
            (
                str(c.pk),
                f"Yes, use the existing record (born {c.date_of_birth:%-d %B %Y}"
                f"{', ' + c.school.name if c.school else ''}, record {c.pk})",
            )
            for c in matches
        ]
        choices.append((self.NEW, "No, this is a different child: create a new record"))
        self.fields["existing_child"].widget.choices = choices
        self.fields["existing_child"].choices = choices  # what the GOV.UK radios template reads

    def clean(self):
        data = super().clean()
        dob = data.get("date_of_birth")
        if dob:
            message = services.validate_date_of_birth(
                date_of_birth=dob, incident_date=self.incident_date, send=data.get("send", False)
            )
            if message:
                self.add_error("date_of_birth", message)
        return data

    def to_input(self) -> services.ChildInput:
        d = self.cleaned_data
        existing = d.get("existing_child")
        return services.ChildInput(
            role=d["role"],
            existing_child_id=int(existing) if existing and existing != self.NEW else None,
            first_name=d["first_name"],
            last_name=d["last_name"],
            date_of_birth=d["date_of_birth"],
            gender=d["gender"],
            school=d.get("school"),
            year_group=d.get("year_group", ""),
            send=d.get("send", False),
            address=d.get("address", ""),
            postcode=d.get("postcode", ""),
        )


class BaseChildFormSet(forms.BaseFormSet):
    def __init__(self, *args, incident_date=None, **kwargs):
        self.incident_date = incident_date
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["incident_date"] = self.incident_date
        return kwargs

    @property
    def filled_forms(self) -> list[ChildForm]:
        """The rows that say something: an extra row left blank is ignored, not an error.

        A row beyond the minimum that nobody typed in validates as empty (Django's
        ``empty_permitted``) and has no cleaned data; only the rest become children.
        """
        return [form for form in self.forms if not (form.empty_permitted and not form.has_changed())]


#: At most 12 children on a referral. Blank rows past the twelfth are ignored like any blank
#: row, but a posted count builds no more than 24 rows (Django's default would build up to
#: 1,012, each rendered again on a refusal); above that the form is refused.
ChildFormSet = forms.formset_factory(
    ChildForm,
    formset=BaseChildFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=12,
    absolute_max=24,
)


_DRAFT_ROW = re.compile(r"^child-(\d+)-(\w+?)(_[012])?$")


def draft_data(posted) -> dict[str, list[str]]:
    """What a draft keeps of a POST to the new referral form: the form's own fields as typed,
    nothing else (no token, no button, no field it does not have)."""

    def names(form_class, prefix=""):
        for name, field in form_class.base_fields.items():
            if isinstance(field.widget, forms.MultiWidget):
                yield from (f"{prefix}{name}_{i}" for i in range(len(field.widget.widgets)))
            else:
                yield f"{prefix}{name}"

    allowed = set(names(ReferralForm)) - {"version"}
    allowed |= {f"child-{key}" for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")}
    child_fields = set(names(ChildForm))
    kept = {}
    for name, values in posted.lists():
        row = _DRAFT_ROW.match(name)
        is_child = (
            row
            and int(row.group(1)) < ChildFormSet.max_num
            and (row.group(2) + (row.group(3) or "") in child_fields)
        )
        if name in allowed or is_child:
            kept[name] = [str(v)[:20_000] for v in values[:20]]
    return kept


#: The new referral form's sections, in the order the page asks them, and what each needs.
_DRAFT_SECTIONS = (
    (
        "About the referral",
        (
            "received_date",
            "received_time",
            "source",
            "forms_of_abuse",
            "is_peer_on_peer",
            "incident_date",
            "location",
            "consent_sought",
        ),
    ),
    ("Referrer and what was reported", ("referrer_name", "narrative")),
)
_CHILD_REQUIRED = ("role", "first_name", "last_name", "date_of_birth", "gender")


@dataclass(frozen=True)
class DraftSummary:
    """What a draft is, from what was typed in it: for its author's list of drafts."""

    children: tuple[str, ...]
    received_on: dt.date | None
    last_section: str
    sections_done: int
    sections: int = len(_DRAFT_SECTIONS) + 1

    @property
    def children_label(self) -> str:
        if not self.children:
            return "No children entered yet"
        if len(self.children) == 1:
            return self.children[0]
        return ", ".join(self.children[:-1]) + " and " + self.children[-1]


def _typed(data: dict, name: str, form_class=None) -> bool:
    field = (form_class or ReferralForm).base_fields.get(name)
    if field is not None and isinstance(field.widget, forms.MultiWidget):
        return all(_typed(data, f"{name}_{i}") for i in range(len(field.widget.widgets)))
    return any(str(v).strip() for v in data.get(name, []))


def _one(data: dict, name: str) -> str:
    values = data.get(name) or [""]
    return str(values[0]).strip()


def draft_summary(data: dict[str, list[str]]) -> DraftSummary:
    """Who and what a draft is about (the children's names, the received date) and how far it
    got: the last of the form's sections, in its order, with everything it needs typed."""
    rows = sorted({int(m.group(1)) for m in map(_DRAFT_ROW.match, data) if m})
    children, roles_done = [], set()
    for row in rows:
        prefix = f"child-{row}-"
        name = f"{_one(data, prefix + 'first_name')} {_one(data, prefix + 'last_name')}".strip()
        if name:
            children.append(name)
        if all(
            _typed({k.removeprefix(prefix): v for k, v in data.items()}, f, ChildForm)
            for f in _CHILD_REQUIRED
        ):
            roles_done.add(_one(data, prefix + "role"))
    try:
        received_on = dt.date(
            int(_one(data, "received_date_2")),
            int(_one(data, "received_date_1")),
            int(_one(data, "received_date_0")),
        )
    except ValueError:
        received_on = None
    done = []
    for title, names in _DRAFT_SECTIONS:
        complete = all(_typed(data, name) for name in names)
        if "consent_sought" in names and _one(data, "consent_sought") == "False":
            complete = complete and _typed(data, "consent_not_sought_reason")
        if complete:
            done.append(title)
    if {ReferralChild.Role.VICTIM, ReferralChild.Role.ALLEGED_PERPETRATOR} <= roles_done:
        done.append("Children")
    return DraftSummary(
        children=tuple(children),
        received_on=received_on,
        last_section=done[-1] if done else "",
        sections_done=len(done),
    )


class ScreeningForm(forms.Form):
    rag = forms.ModelChoiceField(
        label="RAG rating",
        queryset=RagLevel.objects.filter(active=True),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Select a RAG rating"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.fields["rag"].label_from_instance = lambda rag: (
            f"{rag.name} (respond within {rag.response_hours} working hours, counted in opening hours)"
        )


class DecisionForm(forms.Form):
    outcomes = ModelMultipleChoiceField(
        label="Outcome",
        help_text="Select all that apply",
        queryset=Outcome.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one outcome"},
    )
    rationale = forms.CharField(
        label="Reasons for the decision",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter the reasons for the decision"},
    )
    advice = forms.MultipleChoiceField(
        label="Advice given to the school",
        help_text="Select all that apply",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (name, str(ReferralDecision._meta.get_field(name).verbose_name).capitalize())
            for name in ReferralDecision.ADVICE_FIELDS
        ],
    )
    advice_notes = forms.CharField(
        label="Other advice given", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    guidance_departure_reason = forms.CharField(
        label="If the decision does not do what the guidance expects, why not?",
        help_text="Required when the guidance listed on this page expects something the decision does not do",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    def to_input(self) -> services.DecisionInput:
        d = self.cleaned_data
        return services.DecisionInput(
            outcomes=list(d["outcomes"]),
            rationale=d["rationale"],
            advice={name: name in d.get("advice", []) for name in ReferralDecision.ADVICE_FIELDS},
            advice_notes=d.get("advice_notes", ""),
            guidance_departure_reason=d.get("guidance_departure_reason", ""),
        )


class AmendDecisionForm(DecisionForm):
    amendment_reason = forms.CharField(
        label="Why is the decision being amended?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the decision is being amended"},
    )


class AuthoriseDecisionForm(forms.Form):
    authorise = _yes_no("Do you authorise this decision?", "Select yes if you authorise the decision")
    note = forms.CharField(
        label="Your reasons",
        help_text="Required if you do not authorise it: the practitioner will record the decision again",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the reason"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, reason_label: str = "Reason", required_message: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.fields["reason"].label = reason_label
        if required_message:
            self.fields["reason"].error_messages["required"] = required_message


class CaseNoteForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type of note",
        choices=CaseNote.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the type of note"},
    )
    occurred_on = GovDateField(
        noun="the date of the note", label="Date of the event", help_text="For example, 27 3 2019"
    )
    occurred_time = forms.CharField(
        label="Time of the event (optional)",
        required=False,
        help_text="Use the 24-hour clock, for example 14:30",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-5", "inputmode": "numeric"}),
    )
    text = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 6}), error_messages={"required": "Enter the note"}
    )
    corrects = forms.TypedChoiceField(
        label="Does this note correct an earlier one?",
        required=False,
        coerce=int,
        empty_value=None,
        choices=(),
    )

    def __init__(self, *args, notes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.fields["corrects"].choices = [("", "No")] + [
            (str(n.pk), f"Yes, it corrects the note of {n.occurred_on:%-d %B %Y} (note {n.pk})")
            for n in notes
        ]

    def clean_occurred_time(self) -> dt.time | None:
        value = self.cleaned_data["occurred_time"].strip()
        if not value:
            return None
        match = TIME_RE.match(value)
        if not match:
            raise ValidationError("Enter the time of the event in the format 14:30")
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValidationError("Enter a real time, for example 14:30")
        return dt.time(hour, minute)

    def clean_occurred_on(self):
        day = self.cleaned_data["occurred_on"]
        if day > timezone.localdate():
            raise ValidationError("The date of the note must be today or in the past")
        return day


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(
        label="Person",
        queryset=None,
        empty_label="Choose a person",
        error_messages={"required": "Choose the person to give the grant to"},
    )
    actions = forms.MultipleChoiceField(
        label="They may",
        choices=[("view_exempt", "See identities and what was reported"), ("change", "Change the referral")],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select what the person may do"},
    )
    reason = reason_field(
        "Why do they need it?",
        what="why this person needs to see the referral",
        help_text="At least 20 characters and 3 words. Information governance reads this.",
    )
    expires_on = GovDateField(
        noun="the date the grant ends",
        label="Grant ends on (optional)",
        help_text="Leave blank to end it in 30 days. At most 90 days from today. For example, 27 3 2027",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__isnull=False)
            # Administrators hold no grant on case data (core.permissions.grant_many).
            .exclude(groups__name=GROUP_NAMES[Role.ADMINISTRATOR])
            .distinct()
            .order_by("username")
        )
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.username} ({u.username})"
        )


class RevokeForm(forms.Form):
    grant_id = forms.IntegerField(widget=forms.HiddenInput)
    holder_kind = forms.ChoiceField(choices=[("user", "user"), ("group", "group")], widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why is the grant being removed?",
        max_length=500,
        error_messages={"required": "Enter why the grant is being removed"},
    )


class BreakGlassForm(forms.Form):
    reason = reason_field(
        "Why do you need to see the identities now?",
        what="the reason for emergency access",
        help_text=(
            "Information governance will review this. Say what the emergency is, "
            "in at least 20 characters and 3 words."
        ),
        rows=4,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class ImportUploadForm(forms.Form):
    """The file of historic referrals. Its contents are checked by the import service."""

    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV file saved as CSV UTF-8, in the import format",
        error_messages={"required": "Select a CSV file", "empty": "The selected file is empty"},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, max_megabytes: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.helper.label_size = Size.MEDIUM
        self.fields[
            "file"
        ].help_text = f"A CSV file saved as CSV UTF-8, in the import format, smaller than {max_megabytes} MB"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".csv"):
            raise ValidationError("The selected file must be a CSV")
        return upload


class AllocateForm(forms.Form):
    """A MASH manager gives a referral to a member of the MASH team (referral_allocate)."""

    practitioner = forms.TypedChoiceField(
        label="Who should work on this referral?",
        coerce=int,
        error_messages={"required": "Select a practitioner", "invalid_choice": "Select a practitioner"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, practitioners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.fields["practitioner"].choices = [("", "Select a practitioner")] + [
            (p.pk, p.get_full_name() or p.get_username()) for p in practitioners
        ]
