from django import forms

from core.forms import GovDateField, form_helper


class VersionForm(forms.Form):
    title = forms.CharField(
        label="Title", max_length=250, error_messages={"required": "Enter the title of the guidance"}
    )
    change_summary = forms.CharField(
        label="Summary of changes",
        help_text="What changed since the previous version. Schools see this.",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class SectionForm(forms.Form):
    heading = forms.CharField(label="Heading", max_length=200, required=False)
    body = forms.CharField(
        label="Text",
        help_text=(
            "Markdown: a blank line between paragraphs, * for a bulleted list, "
            "[words](https://...) for a link."
        ),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
    )
    remove = forms.BooleanField(label="Remove this section", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not (data.get("heading") or "").strip() and not (data.get("body") or "").strip()

    def clean(self):
        data = super().clean()
        if data.get("remove"):
            return data
        heading, body = (data.get("heading") or "").strip(), (data.get("body") or "").strip()
        if heading and not body:
            self.add_error("body", "Enter the text of the section")
        if body and not heading:
            self.add_error("heading", "Enter the heading of the section")
        return data


class BaseSectionFormSet(forms.BaseFormSet):
    def kept(self) -> list[SectionForm]:
        return [f for f in self.forms if not f.cleaned_data.get("remove") and not f.is_blank]

    def clean(self):
        if any(self.errors):
            return
        if not self.kept():
            raise forms.ValidationError("Add at least one section")


#: At most 60 sections; a posted count builds no more than 120 rows (blank ones are ignored),
#: and above that the form is refused.
SectionFormSet = forms.formset_factory(
    SectionForm, formset=BaseSectionFormSet, extra=1, max_num=60, absolute_max=120
)


class EqiaForm(forms.Form):
    file = forms.FileField(
        label="Equality impact assessment (PDF)",
        help_text="A PDF smaller than 10 MB.",
        error_messages={
            "required": "Select the equality impact assessment",
            "empty": "The selected file is empty",
        },
    )
    summary = forms.CharField(
        label="Summary of the assessment",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter a summary of the equality impact assessment"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class ApproveForm(forms.Form):
    decision = forms.ModelChoiceField(
        label="Cabinet decision that approved this version",
        queryset=None,
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the cabinet decision that approved this version"},
    )

    def __init__(self, *args, decisions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if decisions is not None:
            self.fields["decision"].queryset = decisions
        else:  # no decisions offered: nothing can be chosen
            from scrutiny.models import DecisionRecord

            self.fields["decision"].queryset = DecisionRecord.objects.none()
        self.helper = form_helper()


class AcknowledgeForm(forms.Form):
    name = forms.CharField(
        label="Your full name", max_length=200, error_messages={"required": "Enter your full name"}
    )
    confirm = forms.BooleanField(
        label="I confirm the school has received this version of the model guidance",
        error_messages={"required": "Confirm the school has received this version"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class CoverageDateForm(forms.Form):
    on = GovDateField(noun="the date", label="Coverage on", help_text="For example, 1 9 2026", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
