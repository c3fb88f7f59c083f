from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size
from django import forms
from django.core.exceptions import ValidationError

from core.models import AccessLogEntry


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.label_size = Size.SMALL
    return helper


BIGINT_RANGE = range(-(2**63), 2**63)


class IdsInRangeMixin:
    """For a ``ModelMultipleChoiceField``: an id that no database row can have is refused as a
    choice not offered, before it reaches the database (SQLite raises OverflowError on an
    ``IN`` list holding a number wider than 64 bits; PostgreSQL copes)."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple | set | frozenset) else ():
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # the field's own check refuses it with its own message
            if number not in BIGINT_RANGE:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


class ModelMultipleChoiceField(IdsInRangeMixin, forms.ModelMultipleChoiceField):
    pass


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=32,
        error_messages={"required": "Enter the code from your authenticator app"},
        widget=forms.TextInput(
            attrs={
                "class": "govuk-input govuk-input--width-10",
                "autocomplete": "one-time-code",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())


class AccessLogSearchForm(forms.Form):
    username = forms.CharField(label="Username starts with", required=False, max_length=150)
    record_label = forms.CharField(label="Reference starts with", required=False, max_length=60)
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any"), *AccessLogEntry.Channel.choices]
    )
    break_glass_only = forms.BooleanField(label="Break-glass only", required=False)
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input govuk-input--width-10"}),
        error_messages={"invalid": "Enter a real date for 'from'"},
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input govuk-input--width-10"}),
        error_messages={"invalid": "Enter a real date for 'to'"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class PasswordAgainForm(forms.Form):
    """Enter the password again before a change to how the account signs in."""

    password = forms.CharField(
        label="Your password",
        max_length=4096,
        strip=False,
        error_messages={"required": "Enter your password"},
        widget=forms.PasswordInput(
            attrs={"class": "govuk-input govuk-!-width-one-half", "autocomplete": "current-password"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()
