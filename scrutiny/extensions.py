"""What apps above scrutiny plug into it: the content of generated appendices they own.

Scrutiny sits below the council's model guidance (a version is approved by a cabinet decision,
``scrutiny.DecisionRecord``), yet a cabinet report carries the model guidance as Appendix 6.
Scrutiny owns the appendix kind; the app that owns the content owns what the appendix names
(its own table, pointing down at ``Appendix`` and ``ReportVersion``) and registers, in its
``AppConfig.ready()``, how the appendix is drawn, what a report may choose for it, and how that
choice and what a published version carried are read and written, the way apps register their
documents with ``core.documents``. So scrutiny imports nothing above it and has no foreign key
to it, not even a string one (docs/adr/0019-layers.md, enforced by import-linter in ``make
lint`` and by tests/scrutiny/test_guidance_links.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class AppendixSource:
    """How one generated appendix kind is filled in.

    ``context(subject)`` takes what the appendix names (for example the model guidance version
    put to the meeting, or None) and returns its body template's context, with the object it
    actually drew under the appendix's field name (``guidance_version``: None when there is
    nothing to show yet), which the published report version records.
    ``choices()`` is what a report officer may pick for the appendix.
    ``chosen(appendix_ids)`` is what each appendix names ({appendix id: subject}, none for an
    appendix that names nothing), and ``choose(appendix, subject, user=, reason=)`` records it
    (None: nothing), with history, in the appendix's transaction.
    ``carried(report_version_ids)`` is what each published version drew ({version id:
    subject}), and ``carry(report_version, subject)`` records it once, as it is published.
    ``history(numbers)`` is the history of what the appendices named, as the report's history
    shows it (``core.history.HistoryEntry``); ``numbers`` is {appendix id: its number}.
    """

    kind: str
    context: Callable[[object | None], dict]
    choices: Callable[[], QuerySet]
    chosen: Callable[[Iterable[int]], dict] | None = None
    choose: Callable[..., None] | None = None
    carried: Callable[[Iterable[int]], dict] | None = None
    carry: Callable[[object, object | None], None] | None = None
    history: Callable[[dict[int, int]], list] | None = None


_sources: dict[str, AppendixSource] = {}


def register_appendix_source(
    kind: str,
    *,
    context: Callable[[object | None], dict],
    choices: Callable[[], QuerySet],
    chosen: Callable[[Iterable[int]], dict] | None = None,
    choose: Callable[..., None] | None = None,
    carried: Callable[[Iterable[int]], dict] | None = None,
    carry: Callable[[object, object | None], None] | None = None,
    history: Callable[[dict[int, int]], list] | None = None,
) -> AppendixSource:
    if kind in _sources and _sources[kind].context is not context:
        raise ValueError(f"An appendix source for {kind!r} is already registered")
    _sources[kind] = source = AppendixSource(
        kind=kind,
        context=context,
        choices=choices,
        chosen=chosen,
        choose=choose,
        carried=carried,
        carry=carry,
        history=history,
    )
    return source


def appendix_source(kind: str) -> AppendixSource | None:
    """The registered source, or None when the app that owns it is not installed."""
    return _sources.get(kind)


def chosen(appendices: Iterable) -> dict[int, object]:
    """What each appendix names ({appendix id: subject}), asked of the source of its kind: one
    query per kind present, none for an appendix whose kind has no source or names nothing."""
    by_kind: dict[str, list[int]] = {}
    for appendix in appendices:
        by_kind.setdefault(appendix.kind, []).append(appendix.pk)
    found: dict[int, object] = {}
    for kind, ids in by_kind.items():
        source = _sources.get(kind)
        if source is not None and source.chosen is not None:
            found |= source.chosen(ids)
    return found


def subject(appendix) -> object | None:
    """What one appendix names (None: nothing, e.g. the published model guidance)."""
    return chosen([appendix]).get(appendix.pk)


def choose(appendix, subject: object | None, *, user, reason: str) -> None:
    """Record what the appendix names; every other source forgets it (its kind may have
    changed)."""
    for kind, source in _sources.items():
        if source.choose is not None:
            source.choose(appendix, subject if kind == appendix.kind else None, user=user, reason=reason)


def carried(report_versions: Iterable) -> dict[int, object]:
    """What each published version drew for its appendices ({version id: subject})."""
    ids = [version.pk for version in report_versions]
    found: dict[int, object] = {}
    for source in _sources.values():
        if source.carried is not None and ids:
            found |= source.carried(ids)
    return found


def carry(report_version, kind: str, subject: object | None) -> None:
    """Record, once, what a version drew for an appendix of ``kind`` as it is published."""
    source = _sources.get(kind)
    if source is not None and source.carry is not None:
        source.carry(report_version, subject)


def history(numbers: dict[int, int]) -> list:
    """The history of what these appendices named ({appendix id: number}), every source's."""
    entries: list = []
    for source in _sources.values():
        if source.history is not None and numbers:
            entries += source.history(numbers)
    return entries
