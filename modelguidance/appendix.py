"""The model guidance as a cabinet report's appendix (Appendix 6), plugged into scrutiny.

Scrutiny owns the appendix kind; this app owns which version the appendix names and which
version a published report carried (``AppendixGuidanceVersion`` and
``ReportVersionGuidanceVersion``, pointing down at scrutiny's rows), and this module says how
the appendix is drawn, which versions a report may carry and how those links are read and
written (``scrutiny.extensions``), so the dependency points down: modelguidance -> scrutiny,
never back.
"""

from __future__ import annotations

from modelguidance import packs, selectors
from modelguidance.models import AppendixGuidanceVersion, ModelGuidanceVersion, ReportVersionGuidanceVersion


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


def appendix_chosen(appendix_ids) -> dict:
    """The version each appendix names (appendix id -> version), one query for all."""
    links = AppendixGuidanceVersion.objects.filter(appendix_id__in=list(appendix_ids)).select_related(
        "guidance_version"
    )
    return {link.appendix_id: link.guidance_version for link in links}


def appendix_choose(appendix, version: ModelGuidanceVersion | None, *, user, reason: str) -> None:
    """Record the version the appendix names (None: the published one) as ``user`` with
    ``reason``, with history as the appendix has; nothing changes when it already names it."""
    from core.records import delete_with_history, save_with_history

    link = AppendixGuidanceVersion.objects.select_for_update().filter(appendix_id=appendix.pk).first()
    if version is None:
        if link is not None:
            delete_with_history(link, user=user, reason=reason)
        return
    if link is not None and link.guidance_version_id == version.pk:
        return
    link = link or AppendixGuidanceVersion(appendix_id=appendix.pk)
    link.guidance_version = version
    save_with_history(link, user=user, reason=reason)


def appendix_history(numbers: dict[int, int]) -> list:
    """The history of the versions these appendices named ({appendix id: number}), as the
    report's history page shows it: who chose which version, when and why."""
    from core.history import history_entries

    records = AppendixGuidanceVersion.history.filter(appendix_id__in=list(numbers)).select_related(
        "history_user", "guidance_version"
    )

    def label(record) -> str:
        version = record.guidance_version
        named = f"version {version.number}" if version is not None else "a version since deleted"
        return f"Appendix {numbers[record.appendix_id]}: the model guidance put to the meeting ({named})"

    return history_entries(records, label=label, may_see_exempt=False)


def report_version_carried(report_version_ids) -> dict:
    """The version each published report version carried (report version id -> version)."""
    links = ReportVersionGuidanceVersion.objects.filter(
        report_version_id__in=list(report_version_ids)
    ).select_related("guidance_version")
    return {link.report_version_id: link.guidance_version for link in links}


def report_version_carry(report_version, version: ModelGuidanceVersion | None) -> None:
    """Record, once, the version a report version carried as it was published."""
    if version is not None:
        ReportVersionGuidanceVersion.objects.create(
            report_version_id=report_version.pk, guidance_version=version
        )


def register() -> None:
    from scrutiny import extensions
    from scrutiny.models import Appendix

    extensions.register_appendix_source(
        Appendix.Kind.MODEL_GUIDANCE,
        context=appendix_context,
        choices=appendix_choices,
        chosen=appendix_chosen,
        choose=appendix_choose,
        carried=report_version_carried,
        carry=report_version_carry,
        history=appendix_history,
    )
