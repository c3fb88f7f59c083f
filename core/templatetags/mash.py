import re

from crispy_forms_gds.layout import Size
from crispy_forms_gds.templatetags.crispy_forms_gds import field_errors
from django import forms as django_forms
from django import template
from django.template.loader import get_template

from core.templatetags.dates import format_day, format_when

register = template.Library()

_FORMSET_INDEX = re.compile(r"-(\d+)$")
HIDDEN_FIELD_ERROR = (
    "This form could not be saved as it was sent. Reload the page and enter your answers again"
)


@register.inclusion_tag("includes/error_summary.html")
def error_summary(forms=(), extra_errors=(), non_field_target="", numbered=""):
    """The GOV.UK error summary for every form on the page, first on the page.

    Errors that belong to no field link to the element ``non_field_target`` names if given,
    otherwise to the form's first field. ``numbered`` names what a formset's forms are, so
    their messages say which one is wrong: "Child 2: Enter the child's first name".
    """
    entries = []
    for form in forms or []:
        if form is None or not form.is_bound or not form.errors:
            continue
        index = _FORMSET_INDEX.search(form.prefix or "")
        label = f"{numbered} {int(index.group(1)) + 1}: " if numbered and index else ""
        # A hidden field (the version a change was made on, an id) is wrong only if the page
        # was tampered with or is very old: nothing the user can correct in the form itself.
        hidden = any(field.errors for field in form.hidden_fields())
        entries.append({"form": form, "label": label, "hidden_error": hidden and HIDDEN_FIELD_ERROR})
    return {
        "entries": entries,
        "extra_errors": list(extra_errors or []),
        "non_field_target": non_field_target,
        "show": bool(entries or extra_errors),
    }


def _input_id(field) -> str:
    """The id a link to this field should go to: its first radio, checkbox or date part."""
    widget = field.field.widget
    if isinstance(widget, django_forms.RadioSelect):  # checkboxes too: a subclass
        return f"id_{field.html_name}_1"  # as crispy-forms-gds numbers them
    if isinstance(widget, django_forms.MultiWidget):
        return f"{field.auto_id}_0"
    return field.auto_id


@register.filter
def input_id(field) -> str:
    if not hasattr(field, "field"):  # a form with no visible field: the page's main content
        return "main-content"
    return _input_id(field)


@register.filter
def error_links(field) -> list[tuple[str, str]]:
    """(id, message) for each error on a field. A date part's own error links to that part."""
    links = []
    for field_id, errors in field_errors(field):
        target = _input_id(field) if field_id == field.auto_id else field_id
        links.extend((target, error) for error in errors)
    return links


@register.filter
def gds_field(field):
    """One field rendered as ``{% crispy form %}`` renders it.

    crispy-forms' ``as_crispy_field`` hands the template the helper's bare size ("s") rather
    than the GOV.UK class, and leaves the ``required`` attribute on.
    """
    context = {"field": field, "form_show_errors": True, "form_show_labels": True}
    helper = getattr(field.form, "helper", None)
    if helper is not None:
        context.update(helper.get_attributes("gds"))
        if helper.label_size:
            context["label_size"] = Size.for_label(helper.label_size)
        if helper.legend_size:
            context["legend_size"] = Size.for_legend(helper.legend_size)
    field.form.use_required_attribute = False
    return get_template("gds/field.html").render(context)


@register.filter
def when(value):
    """A date and time in the service's one style (core.templatetags.dates)."""
    return format_when(value)


@register.filter
def day(value):
    return format_day(value)


@register.filter
def yes_no(value):
    if value is None:
        return "Not known"
    return "Yes" if value else "No"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
