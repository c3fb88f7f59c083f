"""Which documents can be exported as packs, and who may export and download them.

Each app registers its kinds from its own ``packs`` module (found by ``autodiscover_modules``
when the core app is ready): for example scrutiny registers ``cabinet_report`` and modelguidance
``guidance_version``. The functions take the object by the keyword their own signature names
(``parts(report=...)``), so each app keeps its own vocabulary.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from core.documents.parts import Part
from core.roles import Role, has_role


class UnknownKind(LookupError):
    pass


def _default_may_view(user, obj) -> bool:
    return has_role(user, Role.REPORT_OFFICER)


def _call(function: Callable, obj, **extra):
    """Call ``function`` with ``obj`` under whichever keyword it names (plus ``extra``)."""
    parameters = [name for name in inspect.signature(function).parameters if name not in extra]
    if len(parameters) != 1:
        raise TypeError(f"{function!r} should take the object by one keyword (and {sorted(extra)})")
    return function(**{parameters[0]: obj}, **extra)


@dataclass(frozen=True)
class DocumentKind:
    kind: str
    model: type[models.Model]
    parts_function: Callable[..., Sequence[Part]]
    digest_function: Callable[..., str]
    classification_function: Callable[..., str]
    may_download_exempt_function: Callable[..., bool]
    title_source: str | Callable[..., str]
    may_view_function: Callable[..., bool]
    exempt_records_function: Callable[..., Iterable[tuple[models.Model, str]]] | None = None
    exempt_access_function: Callable[..., str] | None = None

    def get(self, object_id: int):
        return self.model._default_manager.get(pk=object_id)

    def parts(self, obj) -> list[Part]:
        return list(_call(self.parts_function, obj))

    def digest(self, obj) -> str:
        return _call(self.digest_function, obj)

    def classification(self, obj) -> str:
        return _call(self.classification_function, obj)

    def title(self, obj) -> str:
        if callable(self.title_source):
            return _call(self.title_source, obj)
        return f"{self.title_source}: {obj}"

    def may_view(self, user, obj) -> bool:
        """May export and download the public pack (and see the object's export page)."""
        if not getattr(user, "is_authenticated", False):
            return False
        return bool(_call(self.may_view_function, obj, user=user))

    def exempt_records(self, obj) -> list[tuple[models.Model, str]]:
        """The records (with labels) whose exempt data the exempt pack holds: a download is
        logged against each of them as well as the document."""
        if self.exempt_records_function is None:
            return []
        return list(_call(self.exempt_records_function, obj))

    def exempt_access(self, obj) -> str:
        """For someone who may not download the exempt pack: how it becomes available to them
        ("" if the document has no exempt part, or the kind does not say)."""
        if self.exempt_access_function is None:
            return ""
        return _call(self.exempt_access_function, obj)

    def may_download_exempt(self, user, obj) -> bool:
        """May export and download the exempt pack: the registry's grant check, never a role alone."""
        return self.may_view(user, obj) and bool(_call(self.may_download_exempt_function, obj, user=user))


_KINDS: dict[str, DocumentKind] = {}


def register(
    kind: str,
    *,
    model: type[models.Model],
    parts: Callable[..., Sequence[Part]],
    digest: Callable[..., str],
    classification: Callable[..., str],
    may_download_exempt: Callable[..., bool],
    title: str | Callable[..., str],
    may_view: Callable[..., bool] | None = None,
    exempt_records: Callable[..., Iterable[tuple[models.Model, str]]] | None = None,
    exempt_access: Callable[..., str] | None = None,
) -> DocumentKind:
    """Register a kind of document pack. Registering the same kind again replaces it."""
    entry = DocumentKind(
        kind=kind,
        model=model,
        parts_function=parts,
        digest_function=digest,
        classification_function=classification,
        may_download_exempt_function=may_download_exempt,
        title_source=title,
        may_view_function=may_view or _default_may_view,
        exempt_records_function=exempt_records,
        exempt_access_function=exempt_access,
    )
    _KINDS[kind] = entry
    return entry


def unregister(kind: str) -> None:
    _KINDS.pop(kind, None)


def get_kind(kind: str) -> DocumentKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def kinds() -> dict[str, DocumentKind]:
    return dict(_KINDS)


def object_for(kind: str, object_id: int) -> tuple[DocumentKind, Any]:
    """The registered kind and its object, or ``UnknownKind`` / the model's ``DoesNotExist``."""
    entry = get_kind(kind)
    return entry, entry.get(object_id)
