"""Who may do what in case reviews: the app's role rules in one place (services, selectors,
views and forms ask here; the per-record grants on referrals are core.permissions').

- A lead reviewer sets up a review and leads it: screens, assigns, accepts or returns each
  assessment, resolves moderation. They never assess a case of their own review (their grant on
  it would be one they gave themselves, their assessment one they approved).
- Lead reviewers, report officers and information governance read every review; a reviewer
  reads the reviews they are on.
- Administrators hold no grant on case data, so never assess a case, whatever other role they
  hold.
"""

from __future__ import annotations

from django.db.models import QuerySet

from core.roles import GROUP_NAMES, Role, has_role

SETS_UP_REVIEWS = frozenset({Role.LEAD_REVIEWER})
READS_EVERY_REVIEW = frozenset({Role.LEAD_REVIEWER, Role.INFORMATION_GOVERNANCE, Role.REPORT_OFFICER})

LEAD_ASSESSES_NOTHING = (
    "The lead reviewer accepts or returns each assessment, so cannot assess a case: "
    "choose another of the review's reviewers"
)
ADMINISTRATORS_ASSESS_NOTHING = (
    "Administrators hold no access to case data, so cannot assess a case: choose another reviewer"
)


def may_set_up_review(user) -> bool:
    return has_role(user, *SETS_UP_REVIEWS)


def reads_every_review(user) -> bool:
    return has_role(user, *READS_EVERY_REVIEW)


def possible_assessors(users: QuerySet) -> QuerySet:
    """``users`` without administrators: the people a case may be assigned to (one query)."""
    return users.exclude(groups__name=GROUP_NAMES[Role.ADMINISTRATOR])


def any_administrator(users) -> bool:
    """Whether any of ``users`` is an administrator (one query)."""
    from django.contrib.auth import get_user_model

    ids = [user.pk for user in users]
    return get_user_model().objects.filter(pk__in=ids, groups__name=GROUP_NAMES[Role.ADMINISTRATOR]).exists()


def is_administrator(user) -> bool:
    """One query, for a user other than the signed-in one (no cached roles to read)."""
    return user.groups.filter(name=GROUP_NAMES[Role.ADMINISTRATOR]).exists()
