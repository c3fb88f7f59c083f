"""The one declaration of what is exempt information (Schedule 12A, Part 1, paragraph 2).

Core knows no app's models: each app registers its exempt fields in its ``AppConfig.ready``
(``register(Child, ["first_name", ...])``), the way documents register with
``core.documents``. Every channel that shows, exports, logs or renders case data takes the
boundary from here:

- selectors ``mask`` what a viewer may not see, so no template ever holds an exempt value it
  must remember not to print;
- ``core.history`` masks exempt changes in every history page;
- ``core.logs`` masks every exempt value loaded in a request or task (``register`` connects
  the model, and its history model, to the log filter);
- the access log's ``fields`` column names the fields a page showed (``shown_fields``).

A row may be exempt only in some states (a cabinet report's appendix is exempt when marked
so): ``register(..., when=lambda appendix: appendix.exempt)``.

Anything not registered is pseudonymous case data: reference, dates, forms of abuse, roles,
age bands, school phase, same-school flag, RAG, outcome, timescale met.

This module imports nothing of the project's, so settings (the log filter) may import it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.db import models

#: What stands in for an exempt value wherever the viewer may not see it: pages, history,
#: exports, log lines. The only mask in the project.
MASK = "[exempt]"


@dataclass(frozen=True)
class _Entry:
    fields: frozenset[str]
    when: Callable[[models.Model], bool] | None = None


_REGISTRY: dict[type[models.Model], _Entry] = {}


def _concrete(model_or_instance) -> type[models.Model]:
    model = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
    return getattr(model, "instance_type", model)  # historical models point at their source


def register(
    model: type[models.Model],
    fields: Iterable[str],
    *,
    when: Callable[[models.Model], bool] | None = None,
) -> None:
    """Declare ``fields`` of ``model`` exempt (for rows where ``when(row)`` holds, if given).

    Registering the same model again adds fields. An unknown field name fails at start-up,
    so a renamed field cannot silently fall out of the boundary.
    """
    names = frozenset(fields)
    for name in names:
        model._meta.get_field(name)  # FieldDoesNotExist on a typo or a rename
    entry = _REGISTRY.get(model)
    if entry is not None:
        if entry.when is not when:
            raise ValueError(f"{model.__name__} is registered with another condition")
        names |= entry.fields
    _REGISTRY[model] = _Entry(fields=names, when=when)
    _connect_log_filter(model)


def registered_models() -> list[type[models.Model]]:
    return list(_REGISTRY)


def exempt_fields(model_or_instance) -> frozenset[str]:
    """The exempt fields of a model (or of a row, honouring its condition)."""
    entry = _REGISTRY.get(_concrete(model_or_instance))
    if entry is None:
        return frozenset()
    conditional = entry.when is not None and not isinstance(model_or_instance, type)
    if conditional and not entry.when(model_or_instance):
        return frozenset()
    return entry.fields


def is_exempt(model_or_instance, field_name: str) -> bool:
    """Is this field exempt? Given a row (or a historical record), its condition is honoured."""
    return field_name in exempt_fields(model_or_instance)


def label(model_or_instance, field_name: str) -> str:
    """``Model.field``: how the access log names a field."""
    return f"{_concrete(model_or_instance).__name__}.{field_name}"


def exempt_field_names() -> list[str]:
    """Every exempt field as ``Model.field`` (the whole boundary; an access-log row names only
    the fields its page showed: see ``shown_fields``)."""
    return sorted(label(model, name) for model, entry in _REGISTRY.items() for name in entry.fields)


def field_labels(displayed: Mapping[type[models.Model], Iterable[str]]) -> list[str]:
    """``Model.field`` for each field a channel shows whole (an export's exempt columns).
    Each must be registered exempt: a channel cannot log a field the boundary does not know."""
    labels = []
    for model, names in displayed.items():
        for name in names:
            if not is_exempt(model, name):
                raise ValueError(f"{model.__name__}.{name} is not registered exempt")
            labels.append(label(model, name))
    return sorted(labels)


def _empty(value) -> bool:
    return value is None or value == "" or (hasattr(value, "name") and not value.name)


def shown_fields(
    instances: Iterable[models.Model],
    *,
    displayed: Mapping[type[models.Model], Iterable[str]] | None = None,
) -> list[str]:
    """The exempt fields, as ``Model.field``, that these rows hold a value in: what a page that
    shows them shows. ``displayed`` narrows each model to the fields the page prints."""
    seen: set[str] = set()
    for instance in instances:
        if instance is None or getattr(instance, "_masked", False):
            continue
        names = exempt_fields(instance)
        if displayed is not None:
            names = names & frozenset(displayed.get(_concrete(instance), ()))
        for name in names:
            field = instance._meta.get_field(name)
            value = getattr(instance, field.attname)
            if not _empty(value):
                seen.add(label(instance, name))
    return sorted(seen)


def mask(instance: models.Model) -> models.Model:
    """Put MASK in every exempt field of this in-memory row (never saved), so no template or
    form can show them. A row whose condition does not hold is left as it is."""
    for name in exempt_fields(instance):
        field = instance._meta.get_field(name)
        if field.is_relation:
            setattr(instance, field.attname, None)
            instance._state.fields_cache.pop(name, None)
        elif isinstance(field, models.FileField):
            setattr(instance, field.attname, "")
        elif isinstance(field, (models.CharField, models.TextField)):
            setattr(instance, field.attname, MASK)
        else:
            setattr(instance, field.attname, None)
    instance._masked = True
    return instance


def mask_all(instances: Iterable[models.Model]) -> None:
    for instance in instances:
        if instance is not None:
            mask(instance)


# --- The log filter ------------------------------------------------------------------------------


def _remember(sender, instance, **kwargs) -> None:
    """Every exempt text or date loaded is masked in every log line of this request or task."""
    from core.logs import remember_exempt

    entry = _REGISTRY.get(_concrete(instance))
    if entry is None:
        return
    # A row loaded with deferred fields is remembered whatever its condition: reading a deferred
    # field here would query the database once more for every row.
    names = entry.fields if instance.get_deferred_fields() else exempt_fields(instance)
    remember_exempt(
        *(
            value
            for name in names
            if not instance._meta.get_field(name).is_relation
            and isinstance(value := instance.__dict__.get(name), (str, dt.date))
        )
    )


def _connect_log_filter(model: type[models.Model]) -> None:
    from django.db.models.signals import post_init

    post_init.connect(_remember, sender=model, weak=False, dispatch_uid=f"exempt-log-{model._meta.label}")
    history = getattr(model, "history", None)
    if history is not None:
        post_init.connect(
            _remember, sender=history.model, weak=False, dispatch_uid=f"exempt-log-h-{model._meta.label}"
        )
