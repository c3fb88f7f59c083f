"""Reasons for access must say something: one validator for every grant and emergency access.

A reason is read later by information governance to judge whether the access was justified,
so "x", "." or "aaaaaaaaaa" is no reason. The rule: at least ``MIN_CHARACTERS`` characters
and ``MIN_WORDS`` different words (a word being two or more letters, not one letter repeated).
Forms use ``ReasonValidator`` on their reason field; services call ``reason_error`` (or
``reason_check``) so a caller that skips the form is refused the same way.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

MIN_CHARACTERS = 20
MIN_WORDS = 3

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def _words(text: str) -> set[str]:
    return {
        word.lower()
        for word in _WORD.findall(text)
        if len(word) >= 2 and len(set(word.lower())) > 1  # "aaaa" is not a word
    }


def reason_message(what: str = "the reason") -> str:
    return f"Enter {what}, in at least {MIN_CHARACTERS} characters and {MIN_WORDS} words"


def reason_error(text: str | None, *, what: str = "the reason") -> str | None:
    """The GOV.UK error message for a reason that says nothing, or None for a good one."""
    text = (text or "").strip()
    if len(text) < MIN_CHARACTERS or len(_words(text)) < MIN_WORDS:
        return reason_message(what)
    return None


def reason_check(text: str | None, *, field: str = "reason", what: str = "the reason") -> str:
    """For services: the stripped reason, or a ValidationError on ``field``."""
    error = reason_error(text, what=what)
    if error:
        raise ValidationError({field: error})
    return (text or "").strip()


@deconstructible
class ReasonValidator:
    """For a form's reason field: ``validators=[ReasonValidator("why they need it")]``."""

    def __init__(self, what: str = "the reason"):
        self.what = what

    def __call__(self, value) -> None:
        error = reason_error(value, what=self.what)
        if error:
            raise ValidationError(error, code="reason")

    def __eq__(self, other) -> bool:
        return isinstance(other, ReasonValidator) and other.what == self.what
