"""The referral form in sections: contents at the top, each section's status, one save."""

import re

import pytest
from django.urls import reverse

from referrals.forms import ChildFormSet, FormSection, ReferralForm, form_sections
from referrals.models import Child, Referral, ReferralDetail
from tests.conftest import sign_in_verified
from tests.support.referral_form import payload

pytestmark = pytest.mark.django_db

NEW_FORM = ["received", "incident", "consent", "referrer", "children"]
CONTENTS_ITEM = re.compile(
    r'<a class="govuk-link govuk-task-list__link" href="#(?P<slug>[\w-]+)"[^>]*>(?P<title>[^<]+)</a>'
    r"\s*</div>\s*"
    r'<div class="govuk-task-list__status" id="(?P=slug)-status">(?P<status>.*?)</div>',
    re.S,
)


def contents(body: str) -> dict[str, str]:
    """Each section the contents list, by the id it links to: its status as the page says it."""
    return {m["slug"]: re.sub(r"<[^>]+>", "", m["status"]).strip() for m in CONTENTS_ITEM.finditer(body)}


def test_the_new_referral_form_lists_its_sections_and_each_link_has_a_heading(practitioner_client):
    body = practitioner_client.get(reverse("referrals:create")).content.decode()
    found = contents(body)
    assert list(found) == NEW_FORM
    for slug in NEW_FORM:
        # The heading the link goes to, focusable so the link moves focus there too.
        assert re.search(rf'<h2 class="[^"]*" id="{slug}" tabindex="-1">', body), slug
    assert body.count('href="#contents"') == len(NEW_FORM)  # "Return to contents" after each
    assert 'id="contents"' in body
    # A new form starts received now, so its first section is begun; the rest are not.
    assert found == {
        "received": "Incomplete",
        "incident": "Not yet started",
        "consent": "Not yet started",
        "referrer": "Not yet started",
        "children": "Not yet started",
    }
    assert body.count('name="save"') == 1  # one button saves the whole referral


def test_a_failed_save_marks_the_sections_with_problems_and_keeps_what_was_typed(
    practitioner_client, source_and_form_ids
):
    data = payload(source_and_form_ids)
    data.update({"consent_sought": "False", "consent_not_sought_reason": "", "child-1-first_name": ""})
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body  # the GOV.UK error summary, first
    assert body.index("govuk-error-summary") < body.index('id="contents"')
    assert contents(body) == {
        "received": "Completed",
        "incident": "Completed",
        "consent": "There is a problem",
        "referrer": "Completed",
        "children": "There is a problem",
    }
    assert 'value="Rita Referrer"' in body
    assert 'value="Firstname0"' in body
    assert Referral.objects.count() == ReferralDetail.objects.count() == Child.objects.count() == 0


def test_adding_a_child_shows_no_problem_in_any_section(practitioner_client, source_and_form_ids):
    data = payload(source_and_form_ids)
    del data["save"]
    data["add_child"] = "1"
    body = practitioner_client.post(reverse("referrals:create"), data).content.decode()
    found = contents(body)
    assert "There is a problem" not in found.values()
    # The third child is blank (not started), so the two that were typed still complete it.
    assert found["children"] == "Completed"


def test_a_peer_on_peer_referral_needs_a_victim_and_an_alleged_perpetrator_to_be_complete():
    from tests.support.referral_form import create_payload

    data = create_payload()
    data["child-1-role"] = "victim"
    form = ReferralForm(data)
    children = ChildFormSet(data, prefix="child")
    statuses = {s.slug: s.status for s in form_sections(form, children, show_errors=False)}
    assert statuses["children"] == FormSection.INCOMPLETE
    data["is_peer_on_peer"] = "False"
    form = ReferralForm(data)
    statuses = {s.slug: s.status for s in form_sections(form, ChildFormSet(data, prefix="child"))}
    assert statuses["children"] == FormSection.COMPLETE


def test_the_change_form_has_the_same_sections_without_the_children(
    client, practitioner, source_and_form_ids
):
    sign_in_verified(client, practitioner)
    client.post(reverse("referrals:create"), payload(source_and_form_ids))
    referral = Referral.objects.get()
    edit_url = reverse("referrals:edit", args=[referral.pk])
    body = client.get(edit_url).content.decode()
    assert contents(body) == dict.fromkeys(NEW_FORM[:-1], "Completed")

    mine = {k: v for k, v in payload(source_and_form_ids).items() if not k.startswith("child-")}
    response = client.post(edit_url, mine | {"version": "1", "narrative": ""})
    assert response.status_code == 400
    assert contents(response.content.decode())["referrer"] == "There is a problem"
