"""What the guidance in force expects a MASH decision to do: a registry the guidance library
plugs into (guidance sits above referrals, so referrals asks through this, never imports it).

A source is a callable ``(on: date, forms_of_abuse: list[int]) -> Iterable[Expectation]``
registered in the providing app's ``ready()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Expectation:
    document: str  # the guidance, by title and edition
    code: str  # the criterion's code, e.g. SV21.6
    text: str
    outcome_codes: frozenset[str]  # any of these outcomes meets it
    advice: str = ""  # or this advice given (a ReferralDecision.ADVICE_FIELDS name)

    def met_by(self, *, outcome_codes: Iterable[str], advice: dict[str, bool]) -> bool:
        return bool(self.outcome_codes & set(outcome_codes)) or bool(self.advice and advice.get(self.advice))

    @property
    def label(self) -> str:
        return f"{self.document} ({self.code}): {self.text}"


Source = Callable[[dt.date, list[int]], Iterable[Expectation]]
_sources: list[Source] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def expectations_for(*, on: dt.date, forms_of_abuse: Iterable[int]) -> list[Expectation]:
    forms = list(forms_of_abuse)
    found: list[Expectation] = []
    for source in _sources:
        found.extend(source(on, forms))
    return found
