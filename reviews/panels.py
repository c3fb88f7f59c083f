"""Panels on a case review's findings page, and on a case's assessment page, from the apps
above reviews.

Contextual safeguarding links the same-school findings to the schools' context records
(issue 17), but it sits above reviews, so reviews cannot import it. Instead it registers, in
its ``AppConfig.ready()``, a callable ``(request, review, referral_id=None) -> dict | None``
(``referral_id``: the one case of an assessment page; None: the whole review, on the findings
page): the dict names the panel's ``template`` and holds what it shows; None shows nothing.
The panel decides who sees it. On the findings page it logs any exempt read itself (it has the
request); on an assessment page it returns ``shown_fields`` (``Model.field``) instead, which
the page adds to its own access-log row for the case. Reviews imports no app above it.
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., dict | None]
_panels: list[Panel] = []


def register_findings_panel(panel: Panel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def findings_panels(*, request, review, referral_id: int | None = None) -> list[dict]:
    return [
        shown for panel in _panels if (shown := panel(request, review, referral_id=referral_id)) is not None
    ]
