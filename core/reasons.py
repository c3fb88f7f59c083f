"""Reasons for access must say something: one validator for every grant and emergency access.

A reason is read later by information governance to judge whether the access was justified,
so "x", "." or "aaaaaaaaaa" is no reason, and nor is "asdf qwer zxcv jkl". The rule:

- at least ``MIN_CHARACTERS`` characters and ``MIN_WORDS`` different words (a word being two
  or more letters, with no letter three times in a row: "aaaa", "hmmmm" are not words);
- and it reads as words: at least ``MIN_KNOWN`` of them, and at least ``KNOWN_SHARE`` of all,
  are common English words or the service's own (``core/data/common_words.txt``, a small
  bundled list; "-s", "-ed", "-ing" and the like are stripped before looking a word up).
  "Strategy discussion with police on 3 March" passes; keyboard mash does not.
- and it says what for: at least ``MIN_KNOWN`` of its words are not ``FILLER`` (pronouns,
  articles, prepositions, auxiliaries, pleas and urgency: "please let me in right now ok" and
  "I need access now, urgent" say nothing anyone could check later).
Forms ask for a reason with ``core.forms.reason_field`` (the one place that builds the field and
its ``ReasonValidator``; ruff's banned-api keeps it so); services call ``reason_error`` (or
``reason_check``) so a caller that skips the form is refused the same way.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

MIN_CHARACTERS = 20
MIN_WORDS = 3
#: Of the different words, at least this many and this share must be recognised words.
MIN_KNOWN = 2
KNOWN_SHARE = 0.4

WORD_LIST = Path(__file__).resolve().parent / "data" / "common_words.txt"

#: Words that carry no reason on their own: a reason needs ``MIN_KNOWN`` recognised words
#: besides these.
FILLER = frozenset(
    (  # noqa: SIM905 - a paragraph of words reads better than a list of 120 strings
        "a an the i me my mine we us our you your he him his she her it its they them their this "
        "that these those there here am is are was were be been being do does did done have has "
        "had can could will would shall should may might must to of in on at by for with from into "
        "onto out up down over off about as so and or but if then than too very just also only now "
        "right ok okay please pls thanks thank let get got give need needs want wants access "
        "urgent urgently asap quick quickly soon today yes no not all any some more much really"
    ).split()
)

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_REPEATED = re.compile(r"(.)\1\1")
_ENDINGS = ("'s", "\u2019s", "ies", "es", "s", "ed", "ing", "ly", "er", "d")


@cache
def common_words() -> frozenset[str]:
    words = set()
    for line in WORD_LIST.read_text(encoding="utf-8").splitlines():
        words.update(line.split("#", 1)[0].split())
    return frozenset(words)


def _words(text: str) -> set[str]:
    return {
        word.lower()
        for word in _WORD.findall(text)
        if len(word) >= 2 and len(set(word.lower())) > 1 and not _REPEATED.search(word.lower())
    }


def is_known_word(word: str) -> bool:
    known = common_words()
    if word in known:
        return True
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            stem = word[: -len(ending)]
            if stem in known or f"{stem}e" in known or (ending == "ies" and f"{stem}y" in known):
                return True
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in known:  # "planned"
                return True
    return False


def reason_message(what: str = "the reason") -> str:
    return f"Enter {what}, in at least {MIN_CHARACTERS} characters and {MIN_WORDS} words"


def reason_words_message(what: str = "the reason") -> str:
    return f"Enter {what} in plain words that someone else can read, in at least {MIN_WORDS} words"


def reason_says_nothing_message(what: str = "the reason") -> str:
    return f"Enter {what}: say what it is for, for example the case work or the check it is needed for"


def reason_error(text: str | None, *, what: str = "the reason") -> str | None:
    """The GOV.UK error message for a reason that says nothing, or None for a good one."""
    text = (text or "").strip()
    words = _words(text)
    if len(text) < MIN_CHARACTERS or len(words) < MIN_WORDS:
        return reason_message(what)
    known = [word for word in words if is_known_word(word)]
    if len(known) < MIN_KNOWN or len(known) < KNOWN_SHARE * len(words):
        return reason_words_message(what)
    if sum(1 for word in words if word not in FILLER) < MIN_KNOWN:
        return reason_says_nothing_message(what)
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
