"""Repeating rows on the new referral form: a blank extra row is ignored, a partial one is
refused with everything typed still on the page (issue 13, part 4)."""

import pytest
from django.urls import reverse

from referrals.models import Referral
from tests.support.referral_form import payload

pytestmark = pytest.mark.django_db


def _with_blank_rows(data: dict, extra: int) -> dict:
    data = dict(data)
    data["child-TOTAL_FORMS"] = str(int(data["child-TOTAL_FORMS"]) + extra)
    return data


@pytest.mark.parametrize("extra", [1, 3])
def test_blank_extra_child_rows_are_ignored(practitioner_client, source_and_form_ids, extra):
    response = practitioner_client.post(
        reverse("referrals:create"), _with_blank_rows(payload(source_and_form_ids), extra)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Referral.objects.get().children.count() == 2


def test_a_blank_row_with_only_its_unticked_defaults_is_ignored(practitioner_client, source_and_form_ids):
    data = _with_blank_rows(payload(source_and_form_ids), 1)
    # What a browser sends for an untouched row: empty boxes and the "not known" selects.
    data.update(
        {
            "child-2-first_name": "",
            "child-2-last_name": "",
            "child-2-date_of_birth_0": "",
            "child-2-date_of_birth_1": "",
            "child-2-date_of_birth_2": "",
            "child-2-school": "",
            "child-2-year_group": "",
            "child-2-address": "",
            "child-2-postcode": " ",
        }
    )
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Referral.objects.get().children.count() == 2


def test_a_partial_row_is_refused_and_everything_typed_is_kept(practitioner_client, source_and_form_ids):
    data = _with_blank_rows(payload(source_and_form_ids), 1)
    data["child-2-first_name"] = "Partialname"
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Enter the child&#x27;s last name" in body
    for typed in ("Partialname", "Firstname0", "Lastname1", "The child said what happened.", "Rita Referrer"):
        assert typed in body
    assert not Referral.objects.exists()
