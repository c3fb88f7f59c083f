"""Who does what with contextual safeguarding (docs/adr/0024-contextual-safeguarding.md).

MASH managers see alerts and contexts and record what was done. The rules are configuration:
a MASH manager or an administrator changes them (the rules page holds no case data). The
figures: managers read the internal ones (schools named, nothing suppressed); the public-safe
version, through the disclosure policy, is also for report officers, who take figures to the
safeguarding partnership, and information governance.
"""

from __future__ import annotations

from core.permissions import RoleRequiredMixin
from core.roles import Role, has_role

MANAGERS = frozenset({Role.MASH_MANAGER})
RULE_EDITORS = frozenset({Role.MASH_MANAGER, Role.ADMINISTRATOR})
PUBLIC_FIGURES_READERS = frozenset({Role.MASH_MANAGER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE})


def may_see_alerts(user) -> bool:
    return has_role(user, *MANAGERS)


class ManagerRequiredMixin(RoleRequiredMixin):
    roles = MANAGERS


class RuleEditorRequiredMixin(RoleRequiredMixin):
    roles = RULE_EDITORS


class PublicFiguresRequiredMixin(RoleRequiredMixin):
    roles = PUBLIC_FIGURES_READERS
