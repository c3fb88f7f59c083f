from django import template

from guidance import selectors
from guidance.rendering import render_markdown

register = template.Library()


@register.filter
def markdown(text):
    """A section body as sanitised HTML (see guidance/rendering.py)."""
    return render_markdown(text)


@register.inclusion_tag("guidance/includes/abuse_form_guidance.html")
def abuse_form_guidance(field=None):
    """The guidance for each form of abuse, beside the referral form's choice of forms.

    Each form's guidance is a GOV.UK details component, open for the forms ticked when the
    page was drawn: it works without JavaScript, and a reader opens the others as they wish.
    """
    chosen = set()
    if field is not None:
        value = field.value() or []
        chosen = {str(v.pk if hasattr(v, "pk") else v) for v in value}
    return {"forms": list(selectors.abuse_forms_with_guidance()), "chosen": chosen}
