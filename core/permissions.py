"""The access-control wrapper: views ask here whether a user may act.

Per-record grants (django-guardian) join this module in the exempt-information work; until
then access is by role, and only MASH roles may open referrals.
"""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.http import Http404

from core.roles import MASH_ROLES, Role, user_roles


def can_open_referrals(user) -> bool:
    return bool(user_roles(user) & MASH_ROLES)


class RoleRequiredMixin(AccessMixin):
    """Signed-in users holding one of ``roles``; anyone else gets a 404, never a hint."""

    roles: frozenset[Role] = frozenset()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_roles(request.user) & set(self.roles):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)


class MashRoleRequiredMixin(RoleRequiredMixin):
    roles = MASH_ROLES
