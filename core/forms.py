from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError

from core.models import AccessLogEntry, NotificationPreference, SecurityEvent
from core.reasons import ReasonValidator


def form_helper() -> FormHelper:
    """crispy-forms-gds settings every form in the service shares: the page draws the <form>
    and its CSRF token; small labels and legends."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.label_size = Size.SMALL
    helper.legend_size = Size.SMALL
    return helper


class GovDateField(DateInputField):
    """A GOV.UK date input with messages that name the date being asked for."""

    def __init__(self, *, noun: str, **kwargs):
        super().__init__(**kwargs)
        self.noun = noun
        self.error_messages["required"] = f"Enter {noun}"
        self.error_messages["incomplete"] = f"{noun[0].upper()}{noun[1:]} must include a day, month and year"
        self.error_messages["invalid"] = f"{noun[0].upper()}{noun[1:]} must be a real date"

    def compress(self, data_list):
        try:
            return super().compress(data_list)
        # A year of twenty digits overflows the C long that datetime.date takes.
        except (ValidationError, OverflowError) as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error

    def clean(self, value):
        try:
            result = super().clean(value)
        except ValidationError as error:
            codes = {e.code for e in error.error_list}
            if "required" in codes:
                raise
            if "incomplete" in codes:
                raise ValidationError(self.error_messages["incomplete"], code="incomplete") from error
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error
        if result is not None and not (1900 <= result.year <= 2100):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return result


def reason_field(
    label: str, *, what: str = "", help_text: str = "", rows: int = 3, max_length: int = 2000
) -> forms.CharField:
    """The one way a form asks for a reason that must say something (core.reasons): "Why the
    hold is lifted" asks, and its errors say, "Enter why the hold is lifted" (or ``what``, where
    the question reads differently from the error: "Enter the reason for emergency access")."""
    what = what or label[0].lower() + label[1:]
    return forms.CharField(
        label=label,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=max_length,
        error_messages={"required": f"Enter {what}"},
        validators=[ReasonValidator(what)],
    )


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


#: The longest password any form takes (Django's own former limit): longer is refused before
#: the hasher sees it.
PASSWORD_MAX_LENGTH = 4096


def password_field(label: str = "Your password") -> forms.CharField:
    """The one definition of "enter your password" on this service's own forms."""
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        error_messages={"required": "Enter your password"},
        widget=forms.PasswordInput(
            attrs={"class": "govuk-input govuk-!-width-one-half", "autocomplete": "current-password"}
        ),
    )


def _code_input() -> forms.TextInput:
    """A one-time code: short, the browser may fill it from an SMS or app, no spellcheck."""
    return forms.TextInput(
        attrs={
            "class": "govuk-input govuk-input--width-10",
            "autocomplete": "one-time-code",
            "spellcheck": "false",
        }
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=32,
        error_messages={"required": "Enter the code from your authenticator app"},
        widget=_code_input(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())


class _LogSearchForm(forms.Form):
    """Who and when: the fields every search of an audit trail (the access log, security
    events) shares."""

    username = forms.CharField(label="Username starts with", required=False, max_length=150)
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
        self.helper = form_helper()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "'To' must be the same as or after 'from'")
        return cleaned


class AccessLogSearchForm(_LogSearchForm):
    field_order = ["username", "record_label", "channel", "break_glass_only", "start", "end"]
    record_label = forms.CharField(label="Reference starts with", required=False, max_length=60)
    channel = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AccessLogEntry.Channel.choices]
    )
    break_glass_only = forms.BooleanField(label="Emergency access (break-glass) only", required=False)


class StepUpForm(forms.Form):
    """Before a second factor changes: the password again, and a current or recovery code."""

    password = password_field()
    current_code = forms.CharField(
        label="Code from your current authenticator app, or a recovery code",
        max_length=32,
        error_messages={"required": "Enter the code from your authenticator app, or a recovery code"},
        widget=_code_input(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    def clean_current_code(self) -> str:
        return "".join(self.cleaned_data["current_code"].split())


class PasswordAgainForm(forms.Form):
    """A key-only account's step-up starts with the password again; its key finishes it."""

    password = password_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class NewCodeForm(CodeForm):
    """The code of the authenticator being set up (not a recovery code)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "Code from your new authenticator app"
        self.fields["code"].error_messages["required"] = "Enter the code from your new authenticator app"


class TwoFactorResetForm(forms.Form):
    """An administrator resets someone else's second factor, having checked it is them."""

    HOW_CONFIRMED = [
        ("in person", "In person, with their staff ID card"),
        ("video call", "On a video call, with their staff ID card on camera"),
        ("line manager", "Their line manager confirmed who is asking"),
    ]

    username = forms.CharField(
        label="Username of the person whose two-factor sign-in to reset",
        max_length=150,
        error_messages={"required": "Enter the username of the person whose two-factor sign-in to reset"},
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    how_confirmed = forms.ChoiceField(
        label="How did you check that the request came from them?",
        choices=HOW_CONFIRMED,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how you checked that the request came from them",
            "invalid_choice": "Select how you checked that the request came from them",
        },
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.helper = form_helper()

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError("Enter the username of an active account")
        if self.actor is not None and user.pk == self.actor.pk:
            raise ValidationError("You cannot reset your own two-factor sign-in: ask another administrator")
        return user


class SecurityEventSearchForm(_LogSearchForm):
    field_order = ["username", "kind", "start", "end"]
    kind = forms.ChoiceField(label="Event", required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any"), *SecurityEvent.Kind.choices]
        self.fields["kind"].error_messages["invalid_choice"] = "Select an event from the list"


class BreakGlassReviewForm(forms.Form):
    justified = forms.TypedChoiceField(
        label="Was the emergency access justified?",
        choices=[("yes", "Yes, it was justified"), ("no", "No, it was not justified")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the emergency access was justified"},
    )
    note = reason_field(
        "Note",
        what="a note on why it was or was not justified",
        help_text="Why it was or was not justified, in at least 20 characters and 3 words",
        rows=4,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


def posted_int_of(data, name: str, default: int = 0) -> int:
    """A number a page itself posts (a hidden version, a count of rows): anything that is not
    a number from 0 to 2**31 - 1 counts as ``default``, so a tampered field is refused like a
    stale one and never reaches int() unguarded."""
    try:
        value = int(data.get(name) or default)
    except (ValueError, TypeError):
        return default
    return value if 0 <= value < 2**31 else default


def apply_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, field by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item.messages[0] if hasattr(item, "messages") else item)
    else:
        for message in error.messages:
            form.add_error(None, message)


class DeliveryForm(forms.Form):
    delivery = forms.ChoiceField(
        label="How do you want to hear about notifications by e-mail?",
        choices=NotificationPreference.Delivery.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you want to hear about notifications"},
    )


class PasswordSetForm(SetPasswordForm):
    """The holder sets their password from the e-mailed link (Django's checks: length, common
    passwords, likeness to the username; settings.AUTH_PASSWORD_VALIDATORS)."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.helper = form_helper()
        _gov_password_fields(self, new=("new_password1", "new_password2"))


class OwnPasswordChangeForm(PasswordChangeForm):
    """The holder changes their own password, giving the current one."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.helper = form_helper()
        self.fields["old_password"].label = "Your current password"
        self.fields["old_password"].error_messages["required"] = "Enter your current password"
        self.error_messages["password_incorrect"] = "Your current password is not right. Enter it again."  # noqa: S105 - a message
        _gov_password_fields(self, new=("new_password1", "new_password2"))


def _gov_password_fields(form, *, new: tuple[str, str]) -> None:
    first, second = new
    form.fields[first].label = "New password"
    form.fields[first].error_messages["required"] = "Enter a new password"
    form.fields[second].label = "Enter the new password again"
    form.fields[second].error_messages["required"] = "Enter the new password again"
    form.error_messages["password_mismatch"] = "The two passwords do not match. Enter them again."  # noqa: S105
    for field in form.fields.values():
        field.widget.attrs["class"] = "govuk-input govuk-!-width-one-half"
