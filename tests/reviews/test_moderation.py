"""Moderation as the lead reviewer meets it: what can start, the list of disagreements left,
no rating chosen for them, the page returning to the next disagreement, kappa with its
interval and reading, criteria in natural order and messages that read as sentences."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from reviews import selectors, services
from reviews.models import CaseAssessment, Moderation, Review
from reviews.selectors import natural_key
from tests.conftest import sign_in_verified
from tests.support.reviews import _review_in_moderation, _review_in_reviewing

pytestmark = pytest.mark.django_db


def test_criteria_codes_sort_naturally():
    codes = ["K18.10", "K18.2", "K9.1", "K18.1", "K10", "K18.2a", "k18.3"]
    assert sorted(codes, key=natural_key) == ["K9.1", "K10", "K18.1", "K18.2", "K18.2a", "k18.3", "K18.10"]


def test_start_moderation_is_offered_only_when_it_can_start_and_refused_otherwise(client, role_user):
    lead, reviewer, referral, review = _review_in_reviewing(role_user)
    review.refresh_from_db()
    sign_in_verified(client, lead)
    url = reverse("reviews:detail", args=[review.pk])
    body = client.get(url).content.decode()
    assert "Start moderation" not in body
    blocker = selectors.moderation_blocker(review=review)
    assert blocker == "Moderation can start when cases have been assigned and their assessments accepted."
    assert blocker in body
    # Posting anyway: the service refuses, and says why in a sentence.
    response = client.post(reverse("reviews:advance", args=[review.pk]), {"to": "moderation"}, follow=True)
    assert blocker in response.content.decode()
    review.refresh_from_db()
    assert review.status == Review.Status.REVIEWING

    assessment = services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
    )
    assert selectors.moderation_blocker(review=review) == (
        "Moderation can start when every assessment is accepted: 1 assessment is not accepted yet."
    )
    with pytest.raises(ValidationError, match="1 assessment is not accepted yet"):
        services.review_start_moderation(user=lead, review_id=review.pk)
    ratings = {r.criterion_id: services.RatingInput("met", "Seen") for r in assessment.ratings.all()}
    assessment = services.assessment_save(
        user=reviewer,
        assessment_id=assessment.pk,
        expected_version=1,
        ratings=ratings,
        advice_matched="yes",
        overall_judgement="good",
    )
    services.assessment_submit(
        user=reviewer, assessment_id=assessment.pk, expected_version=assessment.version
    )
    services.assessment_decide(user=lead, assessment_id=assessment.pk, accept=True)
    assert selectors.moderation_blocker(review=review) == ""
    body = client.get(url).content.decode()
    assert "Start moderation" in body
    assert 'id="next-step-blocked"' not in body
    response = client.post(reverse("reviews:advance", args=[review.pk]), {"to": "moderation"}, follow=True)
    assert "The review is now in moderation." in response.content.decode()
    review.refresh_from_db()
    assert review.status == Review.Status.MODERATION


def test_the_moderation_page_lists_unresolved_disagreements_with_no_rating_chosen(client, role_user):
    lead, _reviewer, _referral, review = _review_in_moderation(role_user, disagree=3)
    agreement = selectors.moderation_agreement(review=review)
    assert len(agreement.unresolved) == 3
    codes = [d.first.criterion.code for d in agreement.disagreements]
    assert codes == sorted(codes, key=natural_key)
    assert list(agreement.by_criterion) == sorted(agreement.by_criterion, key=natural_key)
    sign_in_verified(client, lead)
    body = client.get(reverse("reviews:moderation", args=[review.pk])).content.decode()
    assert "Disagreements to resolve (3)" in body
    for d in agreement.unresolved:
        assert f'id="{d.anchor}"' in body
    # No default: not one radio of any resolution form is checked.
    radios = re.findall(r'<input[^>]*type="radio"[^>]*>', body)
    assert radios
    assert not [r for r in radios if "checked" in r]


def test_each_resolution_returns_to_the_next_disagreement_and_says_so_in_a_sentence(client, role_user):
    lead, _reviewer, referral, review = _review_in_moderation(role_user, disagree=3)
    first, second, third = selectors.moderation_agreement(review=review).unresolved
    sign_in_verified(client, lead)
    url = reverse("reviews:moderation", args=[review.pk])

    def resolve(d, rating):
        prefix = f"d{d.first.pk}"
        return client.post(
            url,
            {
                "disagreement": d.first.pk,
                f"{prefix}-primary": d.first.pk,
                f"{prefix}-second": d.second.pk,
                f"{prefix}-resolved_rating": rating,
            },
        )

    # Nothing chosen: the GOV.UK error, on that disagreement, and nothing saved.
    response = resolve(second, "")
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Select the rating that stands" in body
    assert f'href="#id_d{second.first.pk}-resolved_rating_1"' in body
    assert not Moderation.objects.exists()

    response = resolve(second, "partly_met")
    assert response.status_code == 302
    assert response["Location"] == f"{url}#{third.anchor}"
    page = client.get(url).content.decode()
    assert f"{second.first.criterion.code} in {referral.reference} is resolved as partly met." in page
    assert "Disagreements to resolve (2)" in page
    assert f'id="{second.anchor}"' not in page  # resolved ones leave the list...
    assert "Resolved (1)" in page  # ...for the table of resolutions

    # The last in the list goes back round to the first left.
    assert resolve(third, "met")["Location"] == f"{url}#{first.anchor}"
    # None left: the page comes back at the heading of the list.
    assert resolve(first, "not_met")["Location"] == f"{url}#disagreements"
    page = client.get(url).content.decode()
    assert "Every disagreement is resolved." in page
    assert Moderation.objects.filter(resolved_by=lead).count() == 3


def test_a_resolution_must_pair_the_first_rating_with_its_own_second_rating(role_user):
    lead, _reviewer, _referral, review = _review_in_moderation(role_user, disagree=2)
    one, two = selectors.moderation_agreement(review=review).unresolved
    with pytest.raises(ValidationError, match="not a first and second rating of the same criterion"):
        services.moderation_resolve(
            user=lead, primary_rating_id=one.first.pk, second_rating_id=two.second.pk, resolved_rating="met"
        )
    assert not Moderation.objects.exists()


def test_kappa_is_shown_with_its_pairs_interval_and_reading(client, role_user):
    lead, _reviewer, _referral, review = _review_in_moderation(role_user, disagree=0)
    estimate = selectors.moderation_agreement(review=review).estimate
    # Both reviewers rated "met" throughout: kappa cannot be measured (chance agreement is 1).
    assert estimate.kappa is None
    assert estimate.pairs == review.assessments.get(kind=CaseAssessment.Kind.MODERATION).ratings.count()
    sign_in_verified(client, lead)
    body = client.get(reverse("reviews:moderation", args=[review.pk])).content.decode()
    assert "cannot be measured yet" in body
    assert f"{estimate.pairs} paired ratings, all the same rating" in body


def test_kappa_with_a_value_reads_as_landis_and_koch(client, role_user):
    lead, _reviewer, _referral, review = _review_in_moderation(role_user, disagree=1)
    # Let the first reviewer's ratings vary so kappa is defined: rewrite one first rating.
    primary = review.assessments.get(kind=CaseAssessment.Kind.PRIMARY)
    rows = sorted(primary.ratings.select_related("criterion"), key=lambda r: natural_key(r.criterion.code))
    last = rows[-1]
    last.rating = "not_met"
    last.save()
    agreement = selectors.moderation_agreement(review=review)
    estimate = agreement.estimate
    assert estimate.kappa is not None
    sign_in_verified(client, lead)
    body = client.get(reverse("reviews:moderation", args=[review.pk])).content.decode()
    assert f"{estimate.kappa:.2f}</strong>: {estimate.reading} agreement" in body
    assert f"{estimate.low:.2f} to {estimate.high:.2f}" in body
    assert re.search(rf"Paired ratings</dt><dd[^>]*>{estimate.pairs}<", body)
    assert "large-sample standard error" in body
