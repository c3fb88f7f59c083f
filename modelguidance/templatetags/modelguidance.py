from django import template

register = template.Library()


STATUS_TAGS = {
    "draft": "govuk-tag--grey",
    "submitted": "govuk-tag--yellow",
    "approved": "govuk-tag--blue",
    "published": "govuk-tag--green",
    "superseded": "govuk-tag--grey",
}


@register.inclusion_tag("modelguidance/includes/version_status.html")
def version_status(version):
    return {"label": version.get_status_display(), "css": STATUS_TAGS.get(version.status, "")}
