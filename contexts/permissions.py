"""Who does what with contextual safeguarding (docs/adr/0024-contextual-safeguarding.md).

MASH managers see alerts and contexts and record what was done. The rules are configuration:
a MASH manager changes them, giving a reason; the other managers are told. The
figures: managers read the internal ones (schools named, nothing suppressed); the public-safe
version, through the disclosure policy, is also for report officers, who take figures to the
safeguarding partnership, and information governance.
"""

from __future__ import annotations

from core.permissions import RoleRequiredMixin
from core.roles import Role, has_role

MANAGERS = frozenset({Role.MASH_MANAGER})
#: Rules are configured by MASH managers (issue 17). An administrator does no case work: turning
#: a rule off would stop alerts on children, so it is not theirs to do.
RULE_EDITORS = MANAGERS
PUBLIC_FIGURES_READERS = frozenset({Role.MASH_MANAGER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE})
#: A case review's lead reviewer and reviewers follow its same-school findings to the school's
#: context record (issue 17). They see only what they may: its referrals the access rules let
#: them identify and the case-review section; the alerts and the managers' actions stay the
#: managers' (minimal disclosure, docs/adr/0024). Which school contexts they may open is
#: decided per user by ``contexts.selectors.review_team_schools``.
REVIEW_TEAM = frozenset({Role.LEAD_REVIEWER, Role.REVIEWER})
CONTEXT_READERS = MANAGERS | REVIEW_TEAM


def may_see_alerts(user) -> bool:
    return has_role(user, *MANAGERS)


class ManagerRequiredMixin(RoleRequiredMixin):
    roles = MANAGERS


class ContextReaderRequiredMixin(RoleRequiredMixin):
    roles = CONTEXT_READERS


class RuleEditorRequiredMixin(RoleRequiredMixin):
    roles = RULE_EDITORS


class PublicFiguresRequiredMixin(RoleRequiredMixin):
    roles = PUBLIC_FIGURES_READERS
