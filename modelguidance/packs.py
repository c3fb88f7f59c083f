"""The model guidance as a document pack (core.documents): Appendix 6 with Appendix 7.

Registered as ``guidance_version`` so officers can export any version through the export
pages, and used by ``guidance_version_render_pdf`` for the public PDF of the published one.
Nothing in it is exempt.
"""

from __future__ import annotations

import hashlib

from core.documents import HtmlPart, register
from core.roles import has_role
from guidance import selectors as library
from guidance.packs import definitions_part
from modelguidance import permissions
from modelguidance.models import ModelGuidanceVersion

KIND = "guidance_version"


def parts(*, guidance_version: ModelGuidanceVersion) -> list[HtmlPart]:
    return [
        HtmlPart(
            title=guidance_version.title,
            template="modelguidance/pdf/version.html",
            context={"guidance_version": guidance_version, "sections": list(guidance_version.sections.all())},
        ),
        definitions_part(),
    ]


def digest(*, guidance_version: ModelGuidanceVersion) -> str:
    """Changes whenever the text or the status does (a draft's edits bump ``version``)."""
    forms = library.abuse_forms_with_guidance().values_list(
        "pk", "name", "guidance_summary", "first_named_in"
    )
    source = repr(
        (
            guidance_version.pk,
            guidance_version.version,
            str(guidance_version.status),  # a TextChoices member and its str must agree
            [(s.order, s.heading, s.body) for s in guidance_version.sections.all()],
            list(forms),
        )
    )
    return hashlib.sha256(source.encode()).hexdigest()


def classification(*, guidance_version: ModelGuidanceVersion) -> str:
    if guidance_version.status in (
        ModelGuidanceVersion.Status.PUBLISHED,
        ModelGuidanceVersion.Status.SUPERSEDED,
    ):
        return "Open"
    return f"Open - {guidance_version.get_status_display().upper()}, NOT FOR USE BY SCHOOLS"


def may_view(*, user, guidance_version: ModelGuidanceVersion) -> bool:
    return has_role(user, *permissions.EDITORS)


def title(guidance_version: ModelGuidanceVersion) -> str:
    return f"Model guidance version {guidance_version.number}"


register(
    KIND,
    model=ModelGuidanceVersion,
    parts=parts,
    digest=digest,
    classification=classification,
    may_download_exempt=lambda **kw: False,
    title=title,
    may_view=may_view,
)
