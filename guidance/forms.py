from django import forms

from core.forms import GovDateField, form_helper


class InForceForm(forms.Form):
    on = GovDateField(noun="the date", label="Which guidance applied on", help_text="For example, 3 9 2018")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
