"""Every form class of the project, for the hostile-input tests."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path

from django import forms
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]


def form_modules() -> list[str]:
    """``<app>.forms`` of every installed app that lives in this repository: an app added later
    is walked without being listed here."""
    names = []
    for config in apps.get_app_configs():
        if Path(config.path).resolve().parent != ROOT:  # a package installed in .venv, say
            continue
        name = f"{config.name}.forms"
        if importlib.util.find_spec(name) is not None:
            names.append(name)
    return names


def form_classes() -> list[type[forms.Form]]:
    found = []
    for name in form_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name and cls is not forms.Form:
                found.append(cls)
    return found
