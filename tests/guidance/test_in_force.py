import datetime as dt

import pytest
from django.urls import reverse

from guidance.models import GuidanceDocument
from guidance.selectors import criteria_in_force, documents_in_force, guidance_timeline
from referrals.models import AbuseForm

pytestmark = pytest.mark.django_db


def titles(on):
    return {d.title for d in documents_in_force(on=on)}


def test_kcsie_2018_takes_over_on_3_september_2018():
    before = titles(dt.date(2018, 9, 2))
    after = titles(dt.date(2018, 9, 3))
    assert "Keeping Children Safe in Education 2016" in before
    assert "Keeping Children Safe in Education 2018" not in before
    assert "Keeping Children Safe in Education 2018" in after
    assert "Keeping Children Safe in Education 2016" not in after
    # Other series are unaffected by a KCSIE edition.
    assert "Working Together to Safeguard Children 2018" in before & after


def test_svsh_advice_starts_14_december_2017_and_revision_replaces_it():
    assert not any("Sexual violence" in t for t in titles(dt.date(2017, 12, 13)))
    assert "Sexual violence and sexual harassment between children in schools and colleges" in titles(
        dt.date(2017, 12, 14)
    )
    may = titles(dt.date(2018, 6, 1))
    assert "Sexual violence and sexual harassment between children in schools and colleges (revised)" in may
    assert "Sexual violence and sexual harassment between children in schools and colleges" not in may


def test_criteria_follow_the_documents_and_the_forms_of_abuse():
    on = dt.date(2018, 9, 3)
    codes = {c.code for c in criteria_in_force(on=on)}
    assert "K18.6" in codes
    assert "K16.1" not in codes
    assert "WT18.1" in codes
    harassment = AbuseForm.objects.get(code="sexual-harassment").pk
    for_harassment = {c.code for c in criteria_in_force(on=on, forms_of_abuse=[harassment])}
    assert "K18.6" not in for_harassment  # police starting point is for rape and sexual assault
    assert "K18.1" in for_harassment
    rape = AbuseForm.objects.get(code="rape").pk
    assert "K18.6" in {c.code for c in criteria_in_force(on=on, forms_of_abuse=[rape])}


def test_nothing_in_force_before_the_library_begins():
    assert not titles(dt.date(2015, 1, 1))


def test_timeline_ends_each_edition_the_day_before_the_next():
    rows = {r.document.title: r for r in guidance_timeline()}
    assert rows["Keeping Children Safe in Education 2016"].until == dt.date(2018, 9, 2)
    assert rows["Keeping Children Safe in Education 2025"].until is None


def test_an_administrator_correction_moves_the_boundary():
    kcsie_2018 = GuidanceDocument.objects.get(title="Keeping Children Safe in Education 2018")
    kcsie_2018.in_force_from = dt.date(2018, 9, 5)
    kcsie_2018.save()
    assert "Keeping Children Safe in Education 2016" in titles(dt.date(2018, 9, 4))


def test_timeline_page(practitioner_client):
    page = practitioner_client.get(reverse("guidance:timeline"), {"on_0": "3", "on_1": "9", "on_2": "2018"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "In force on 3 September 2018" in body
    assert "K18.6" in body
    bad = practitioner_client.get(reverse("guidance:timeline"), {"on_0": "31", "on_1": "2", "on_2": "2018"})
    assert "The date must be a real date" in bad.content.decode()
