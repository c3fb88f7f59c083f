from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("includes/error_summary.html")
def error_summary(forms=(), extra_errors=()):
    """The GOV.UK error summary for every form on the page, first on the page."""
    forms = [f for f in (forms or []) if f is not None and f.is_bound and f.errors]
    return {"forms": forms, "extra_errors": list(extra_errors or []), "show": bool(forms or extra_errors)}


@register.filter
def when(value):
    """A date and time as GOV.UK writes them: 27 March 2019 at 2:30pm."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    hour = local.strftime("%-I:%M%p").lower().replace(":00", "")
    return f"{local:%-d %B %Y} at {hour}"


@register.filter
def day(value):
    if value is None:
        return ""
    return f"{value:%-d %B %Y}"


@register.filter
def yes_no(value):
    if value is None:
        return "Not known"
    return "Yes" if value else "No"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
