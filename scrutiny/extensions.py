"""What apps above scrutiny plug into it: the content of generated appendices they own.

Scrutiny sits below the council's model guidance (a version is approved by a cabinet decision,
``scrutiny.DecisionRecord``), yet a cabinet report carries the model guidance as Appendix 6.
Scrutiny owns the appendix kind and its foreign key; the app that owns the content registers,
in its ``AppConfig.ready()``, how the appendix is drawn and what a report may choose for it,
the way apps register their documents with ``core.documents``. So scrutiny imports nothing
above it (docs/adr/0019-layers.md, enforced by import-linter in ``make lint``).
"""

from __future__ import annotations

from collections.abc import Callable
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
    """

    kind: str
    context: Callable[[object | None], dict]
    choices: Callable[[], QuerySet]


_sources: dict[str, AppendixSource] = {}


def register_appendix_source(
    kind: str,
    *,
    context: Callable[[object | None], dict],
    choices: Callable[[], QuerySet],
) -> AppendixSource:
    if kind in _sources and _sources[kind].context is not context:
        raise ValueError(f"An appendix source for {kind!r} is already registered")
    _sources[kind] = source = AppendixSource(kind=kind, context=context, choices=choices)
    return source


def appendix_source(kind: str) -> AppendixSource | None:
    """The registered source, or None when the app that owns it is not installed."""
    return _sources.get(kind)
