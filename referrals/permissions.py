"""Who may do what on referrals, by role (the grants themselves are core.permissions)."""

from __future__ import annotations

from core.permissions import RoleRequiredMixin
from core.roles import Role

#: Pages only a MASH manager opens: authorising decisions, grants, restrictions, emergency
#: access, imports. Anyone else gets a 404, never a hint.
MANAGER_ROLES = frozenset({Role.MASH_MANAGER})


class ManagerRequiredMixin(RoleRequiredMixin):
    roles = MANAGER_ROLES
