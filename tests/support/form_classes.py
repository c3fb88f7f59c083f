"""Every form class of the project, for the hostile-input tests."""

from __future__ import annotations

import importlib
import inspect

from django import forms

#: The modules with the product's forms; a module merged later (scrutiny, guidance) is added here.
FORM_MODULES = ["referrals.forms", "reviews.forms", "core.forms", "guidance.forms", "scrutiny.forms"]


def form_classes() -> list[type[forms.Form]]:
    found = []
    for name in FORM_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name and cls is not forms.Form:
                found.append(cls)
    return found
