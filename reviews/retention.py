"""Case reviews under the retention schedule: when a referral is disposed of, what reviewers
wrote about it goes too (the assessment's ratings and judgements stay, so a review's figures
still add up). Registered with ``core.retention`` in ``ReviewsConfig.ready``."""

from __future__ import annotations

from core import retention
from reviews.models import CaseAssessment, CriterionRating


def referral_review_evidence_erase(*, record_id: int, user, reason: str) -> None:
    for assessment in CaseAssessment.objects.filter(referral_id=record_id):
        for rating in CriterionRating.objects.filter(assessment=assessment):
            retention.erase(rating, user=user, reason=reason)
        retention.erase(assessment, user=user, reason=reason)


def register() -> None:
    retention.register_eraser(
        "referral", referral_review_evidence_erase, erases=[CaseAssessment, CriterionRating]
    )
