"""N+1 detection for the whole suite (django-zeal).

Every test runs inside a zeal context (``tests/conftest.py``), and every request the test
client makes gets its own (zeal's middleware, in the test settings): a relation loaded row by
row, or the same ``.get()`` run again and again from one line, raises ``NPlusOneError``.

A test calling a service or selector several times is not an N+1: in production each call is
its own request or task. So a service or selector called straight from test code (or a test
helper marked with ``unit_of_work``) counts in a fresh context, as a request would; calls
from application code stay in the caller's context, so a service looping over another
service is still caught.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from pathlib import Path

from zeal import zeal_context, zeal_ignore

TESTS_DIR = str(Path(__file__).resolve().parent)

#: Modules whose public functions are units of work (services write, selectors read).
UNIT_MODULES = [
    "core.selectors",
    "core.documents.selectors",
    "core.documents.services",
    "guidance.services",
    "guidance.selectors",
    "referrals.selectors",
    "referrals.services",
    "referrals.imports.selectors",
    "referrals.imports.services",
    "reviews.selectors",
    "reviews.services",
    "scrutiny.selectors",
    "scrutiny.services",
    "scrutiny.packs",
    "guidance.packs",
]


def unit_of_work(function):
    """Run ``function`` in a fresh zeal context when test code calls it."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not sys._getframe(1).f_code.co_filename.startswith(TESTS_DIR):
            return function(*args, **kwargs)
        with zeal_context():
            return function(*args, **kwargs)

    wrapper.__zeal_unit__ = True
    return wrapper


def wrap_unit_modules() -> None:
    for name in UNIT_MODULES:
        module = importlib.import_module(name)
        for attribute, value in list(vars(module).items()):
            if (
                inspect.isfunction(value)
                and value.__module__ == name
                and not attribute.startswith("_")
                and not getattr(value, "__zeal_unit__", False)
            ):
                setattr(module, attribute, unit_of_work(value))


def set_up(function):
    """Test data set-up (or polling) that touches rows one by one on purpose: not checked.

    For fixtures and helpers that build data in a loop; application code they call through a
    service, selector or request is still checked in its own context.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with zeal_ignore():
            return function(*args, **kwargs)

    return wrapper
