"""DSL training coverage: current up to and including the second anniversary (KCSIE)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from core.roles import Role
from modelguidance.models import SafeguardingLead, TrainingRecord
from modelguidance.selectors import (
    schools_with_current_dsl_training,
    training_coverage,
    training_cutoff,
    training_due,
)
from tests.conftest import sign_in_verified
from tests.factories import SchoolFactory
from tests.guidance.helpers import school_with_dsl

D = dt.date


@pytest.mark.parametrize(
    ("completed", "due"),
    [
        (D(2024, 9, 1), D(2026, 9, 1)),
        (D(2024, 2, 29), D(2026, 2, 28)),  # leap day: the anniversary falls on 28 February
        (D(2022, 2, 28), D(2024, 2, 28)),
        (D(2022, 3, 1), D(2024, 3, 1)),
        (D(2026, 2, 29 - 1), D(2028, 2, 28)),
    ],
)
def test_training_due(completed, due):
    assert training_due(completed) == due


@pytest.mark.parametrize(
    ("on", "cutoff"),
    [
        (D(2026, 9, 1), D(2024, 9, 1)),
        (D(2028, 2, 29), D(2026, 3, 1)),  # on leap day, training on 28 Feb 2026 (due 28 Feb 2028) lapsed
        (D(2026, 3, 1), D(2024, 3, 1)),
        (D(2026, 2, 28), D(2024, 2, 28)),
    ],
)
def test_training_cutoff(on, cutoff):
    assert training_cutoff(on) == cutoff


def test_cutoff_and_due_agree_on_every_day_of_a_leap_cycle():
    """training_due(d) >= on exactly when d >= training_cutoff(on), for every pair near leap days."""
    days = [D(2023, 12, 1) + dt.timedelta(days=n) for n in range(0, 1700, 1)]
    for on in [*days[730::7], D(2028, 2, 28), D(2028, 2, 29), D(2028, 3, 1), D(2026, 2, 28), D(2026, 3, 1)]:
        cutoff = training_cutoff(on)
        for completed in (cutoff - dt.timedelta(days=1), cutoff, cutoff + dt.timedelta(days=1)):
            assert (training_due(completed) >= on) == (completed >= cutoff), (on, completed)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("trained", "on", "current"),
    [
        (D(2024, 9, 1), D(2026, 9, 1), True),  # exactly two years: still current
        (D(2024, 9, 1), D(2026, 9, 2), False),  # a day later: a gap
        (D(2024, 9, 1), D(2024, 9, 1), True),  # the day itself
        (D(2024, 9, 2), D(2024, 9, 1), False),  # training in the future of the date asked about
        (D(2024, 2, 29), D(2026, 2, 28), True),  # leap day training: current on 28 Feb two years on
        (D(2024, 2, 29), D(2026, 3, 1), False),  # ... and lapsed on 1 March
        (D(2026, 2, 28), D(2028, 2, 28), True),
        (D(2026, 2, 28), D(2028, 2, 29), False),  # on a leap day, 28 Feb two years before has lapsed
        (D(2026, 3, 1), D(2028, 2, 29), True),
    ],
)
def test_coverage_at_the_boundaries(trained, on, current):
    school, _ = school_with_dsl(trained_on=trained)
    row = training_coverage(on=on).schools[0]
    assert row.school == school
    assert row.current is current
    assert (school in schools_with_current_dsl_training(on=on)) is current


@pytest.mark.django_db
def test_overall_figure_and_gaps():
    on = D(2026, 9, 1)
    school_with_dsl(trained_on=D(2025, 1, 1), name="A current school")
    school_with_dsl(trained_on=D(2024, 8, 31), name="B lapsed school")
    school_with_dsl(name="C untrained school")
    SchoolFactory(name="D school without a DSL")
    SchoolFactory(name="E closed school", active=False)
    # A deputy's training does not cover the school.
    deputy_school, _ = school_with_dsl(name="F school with a trained deputy only")
    deputy = SafeguardingLead.objects.create(
        school=deputy_school, role=SafeguardingLead.Role.DEPUTY, name="Deputy", email="d@school.example"
    )
    TrainingRecord.objects.create(lead=deputy, course="DSL", provider="Council", completed_on=D(2026, 1, 1))
    # A former DSL's training does not count either.
    former_school, lead = school_with_dsl(trained_on=D(2026, 1, 1), name="G school whose trained DSL left")
    lead.active = False
    lead.save()
    SafeguardingLead.objects.create(
        school=former_school, role=SafeguardingLead.Role.DSL, name="New DSL", email="n@school.example"
    )
    coverage = training_coverage(on=on)
    assert coverage.total == 6  # the closed school is not counted
    assert coverage.covered == 1
    assert coverage.percent == 17
    gaps = {row.school.name: row.gap for row in coverage.gaps}
    assert gaps == {
        "B lapsed school": "DSL training was due by 31 August 2026",
        "C untrained school": "No DSL training recorded",
        "D school without a DSL": "No designated safeguarding lead recorded",
        "F school with a trained deputy only": "No DSL training recorded",
        "G school whose trained DSL left": "No DSL training recorded",
    }
    assert set(schools_with_current_dsl_training(on=on).values_list("name", flat=True)) == {
        "A current school"
    }


@pytest.mark.django_db
def test_the_coverage_pages(client, role_user):
    school_with_dsl(trained_on=D(2020, 1, 1), name="Lapsed Academy")
    school, _ = school_with_dsl(trained_on=D(2026, 1, 1), name="Trained Academy")
    sign_in_verified(client, role_user(Role.MASH_MANAGER))
    page = client.get(reverse("modelguidance:coverage"), {"on_0": "1", "on_1": "9", "on_2": "2026"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "1 of 2" in body
    assert "Lapsed Academy" in body
    assert "DSL training was due by 1 January 2022" in body
    bad = client.get(reverse("modelguidance:coverage"), {"on_0": "31", "on_1": "2", "on_2": "2026"})
    assert "There is a problem" in bad.content.decode()
    detail = client.get(reverse("modelguidance:school_coverage", args=[school.pk]))
    assert "DSL training" in detail.content.decode()
    assert "1 January 2026" in detail.content.decode()
