"""Every kind of generated document, for the hostile-input tests."""

from __future__ import annotations

import importlib


def _documents():
    """core.documents, the PDF pipeline (merged: its absence is a failure, never a skip)."""
    return importlib.import_module("core.documents")
