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

import contextlib
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
    "core.services",
    "core.documents.selectors",
    "core.documents.services",
    "guidance.packs",
    "guidance.selectors",
    "modelguidance.packs",
    "modelguidance.selectors",
    "modelguidance.services",
    "records.selectors",
    "records.services",
    "referrals.selectors",
    "referrals.services",
    "referrals.imports.selectors",
    "referrals.imports.services",
    "reviews.selectors",
    "reviews.services",
    "scrutiny.packs",
    "scrutiny.selectors",
    "scrutiny.services",
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


def digests_are_fresh_reads() -> None:
    """A pack's digest reads every source afresh, on purpose: a job compares it before and
    after rendering, so a change made meanwhile is never stored as a finished pack. Those
    re-reads repeat the render's queries from the same lines by design (a fixed number per
    job, never per row), so each digest counts in a context of its own; the render itself,
    and everything else in the task, is still checked."""
    from core.documents.registry import DocumentKind

    digest = DocumentKind.digest
    if getattr(digest, "__zeal_unit__", False):
        return

    @functools.wraps(digest)
    def fresh(self, obj):
        with zeal_context():
            return digest(self, obj)

    fresh.__zeal_unit__ = True
    DocumentKind.digest = fresh


_task_contexts: dict[str, contextlib.ExitStack] = {}


def _task_started(task_id=None, **kwargs) -> None:
    stack = contextlib.ExitStack()
    stack.enter_context(zeal_context())
    _task_contexts[task_id] = stack


def _task_finished(task_id=None, **kwargs) -> None:
    stack = _task_contexts.pop(task_id, None)
    if stack is not None:
        stack.close()


def tasks_are_units() -> None:
    """A Celery task run in a test (eagerly, or on commit) counts in a fresh context, as it
    would on a worker: the DSL e-mails queued by one publication are one task each."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="tests.nplusone.started")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="tests.nplusone.finished")


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
