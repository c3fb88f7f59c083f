"""Panels on a case review's findings page from the apps above reviews.

Contextual safeguarding links the same-school findings to the schools' context records
(issue 17), but it sits above reviews, so reviews cannot import it. Instead it registers, in
its ``AppConfig.ready()``, a callable ``(request, review) -> dict | None``: the dict names the
panel's ``template`` and holds what it shows; None shows nothing. The panel decides who sees
it and logs any exempt read itself (it has the request). Reviews imports no app above it.
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., dict | None]
_panels: list[Panel] = []


def register_findings_panel(panel: Panel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def findings_panels(*, request, review) -> list[dict]:
    return [shown for panel in _panels if (shown := panel(request, review)) is not None]
