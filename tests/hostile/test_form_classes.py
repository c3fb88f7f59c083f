"""The form classes themselves, without a page: every ``forms.Form`` in the product's form
modules, bound to Hypothesis data for its own field names. ``is_valid()`` never raises, an
invalid form says why in words, and a valid one hands its service the types it expects."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.strategies import hostile_number_part, hostile_text
from tests.support.form_classes import form_classes

pytestmark = pytest.mark.django_db


def _make(cls, data=None, files=None):
    """The form, given what its constructor needs (an assessment, say) from a small world."""
    kwargs = {}
    params = inspect.signature(cls.__init__).parameters
    if "assessment" in params:
        from reviews.models import CaseAssessment

        kwargs["assessment"] = CaseAssessment.objects.first()
    if "rows" in params:
        from reviews.models import CriterionRating

        kwargs["rows"] = list(CriterionRating.objects.filter(assessment=kwargs.get("assessment")))
    if "exempt_visible" in params:
        kwargs["exempt_visible"] = True  # the widest form: every free-text field present
    if "notes" in params:
        from referrals.models import CaseNote

        kwargs["notes"] = list(CaseNote.objects.all())
    if "incident_date" in params:
        kwargs["incident_date"] = dt.date(2019, 3, 27)
    if "user" in params:  # Django's password forms: the account comes first
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.order_by("pk").first()
        return cls(user, data, **kwargs) if data is not None else cls(user, **kwargs)
    return cls(data, files, **kwargs) if data is not None else cls(**kwargs)


def field_names(form) -> list[str]:
    names = []
    for name, field in form.fields.items():
        html_name = form.add_prefix(name)
        if isinstance(field.widget, forms.MultiWidget):
            names += [f"{html_name}_{i}" for i in range(len(field.widget.widgets))]
        else:
            names.append(html_name)
    return names


@pytest.fixture
def world(role_user):
    from tests.hostile.walk import build_world

    return build_world(role_user)


def test_every_form_class_is_found():
    names = {cls.__name__ for cls in form_classes()}
    assert {"ReferralForm", "ChildForm", "DecisionForm", "ReviewForm", "AssessmentForm", "CodeForm"} <= names


@pytest.mark.parametrize("cls", form_classes(), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_a_form_bound_to_anything_validates_without_raising(world, cls):
    names = field_names(_make(cls))

    @given(
        data=st.fixed_dictionaries(
            {},
            optional={
                name: st.one_of(hostile_text(), hostile_number_part(), st.lists(hostile_text(), max_size=3))
                for name in names
            },
        )
    )
    def run(data):
        from django.http import QueryDict
        from zeal import zeal_context

        with zeal_context():  # each example is its own request in production
            _validate(cls, data, QueryDict)

    run()


def _validate(cls, data, QueryDict) -> None:
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    form = _make(cls, query, {})
    if form.is_valid():
        return
    for field, errors in form.errors.items():
        for message in errors:
            assert isinstance(message, str), (cls.__name__, field)
            assert message.strip(), (cls.__name__, field)


@pytest.mark.parametrize("parts", [["1", "1", "9" * 40], ["9" * 20, "1", "2000"], ["1", str(2**64), "2000"]])
def test_a_date_part_too_big_for_any_calendar_is_not_a_real_date(parts):
    from django.core.exceptions import ValidationError

    from core.forms import GovDateField

    with pytest.raises(ValidationError, match="must be a real date"):
        GovDateField(noun="the date of the incident").clean(parts)
