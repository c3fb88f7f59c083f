"""The model guidance as a cabinet report's appendix (Appendix 6), plugged into scrutiny.

Scrutiny owns the appendix kind and the ``guidance_version`` it names; this module says how
the appendix is drawn and which versions a report may carry (``scrutiny.extensions``), so the
dependency points down: modelguidance -> scrutiny, never back.
"""

from __future__ import annotations

from modelguidance import packs, selectors
from modelguidance.models import ModelGuidanceVersion


def appendix_context(version: ModelGuidanceVersion | None) -> dict:
    """The version put to the meeting when the appendix names one (a version submitted for
    approval, say), otherwise the published one, never a draft: the selector serves only the
    one published version (None before any is published), and ``packs`` says how a version
    is printed."""
    if version is not None and version.status == ModelGuidanceVersion.Status.DRAFT:
        version = None
    if version is None:
        version = selectors.published_version()
    if version is None:
        return {"guidance_version": None}
    part = packs.parts(guidance_version=version)[0]
    return {"guidance_template": part.template, **part.context}


def appendix_choices():
    """The versions a report may carry: any but a draft, newest first."""
    return ModelGuidanceVersion.objects.exclude(status=ModelGuidanceVersion.Status.DRAFT).order_by("-number")


def register() -> None:
    from scrutiny import extensions
    from scrutiny.models import Appendix

    extensions.register_appendix_source(
        Appendix.Kind.MODEL_GUIDANCE, context=appendix_context, choices=appendix_choices
    )
