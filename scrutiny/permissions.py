"""Who may do what in scrutiny (docs/adr/0009-scrutiny-roles.md).

Report officers compose reports and keep the tracker. Lead reviewers and information
governance read both. Information governance gives access to exempt appendices, always
with a reason and an end date. Exempt appendices need a per-record grant on the report and a
session verified with two-factor sign-in, whatever the role (core.permissions).
"""

from __future__ import annotations

from core import permissions
from core.roles import Role, user_roles

MANAGERS = frozenset({Role.REPORT_OFFICER})
READERS = MANAGERS | frozenset({Role.LEAD_REVIEWER, Role.INFORMATION_GOVERNANCE})
#: Who gives access to a report's exempt appendices: information governance, never the
#: officers who compose the report and would read them (nobody authorises themselves).
GRANTORS = frozenset({Role.INFORMATION_GOVERNANCE})


def can_read(user) -> bool:
    return bool(user_roles(user) & READERS)


def can_manage(user) -> bool:
    return bool(user_roles(user) & MANAGERS)


def can_grant(user) -> bool:
    return bool(user_roles(user) & GRANTORS)


def can_see_exempt_appendices(user, report) -> bool:
    """A reader with a live grant on the report, in a two-factor session."""
    return can_read(user) and permissions.can_see_exempt(user, report)


class ReadersMixin(permissions.RoleRequiredMixin):
    roles = READERS


class ManagersMixin(permissions.RoleRequiredMixin):
    roles = MANAGERS


class GrantorsMixin(permissions.RoleRequiredMixin):
    roles = GRANTORS
