from django import forms

from core.models import ExportJob


class ExportForm(forms.Form):
    variant = forms.ChoiceField(
        choices=ExportJob.Variant.choices,
        error_messages={
            "required": "Select which pack to export",
            "invalid_choice": "Select which pack to export",
        },
    )
