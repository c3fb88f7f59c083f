"""Writes to user accounts: roles and administrator changes (the admin calls these).

A role is a group (core.roles). Changing someone's roles is a security event e-mailed to
information governance, and nobody changes their own: an administrator who needs another
role asks another administrator, and information governance is told either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.models import AccessLogEntry, BreakGlassReview, SecurityEvent
from core.reasons import reason_check
from core.security_events import security_event_record

#: Account fields only a superuser (the break-fix account) may change, and nobody on their own
#: account: they widen what the account may do beyond its roles.
PRIVILEGE_FIELDS = ("is_superuser", "user_permissions")
#: Fields nobody changes on their own account in the admin.
OWN_ACCOUNT_LOCKED = ("groups", "is_staff", "is_superuser", "user_permissions", "is_active")


def _names(groups: Iterable[Group]) -> str:
    return ", ".join(sorted(group.name for group in groups)) or "none"


@transaction.atomic
def user_roles_change(*, actor, user, groups: Iterable[Group], request=None) -> bool:
    """Set ``user``'s roles to ``groups``; refuse a change to one's own. True if anything changed."""
    groups = list(groups)
    if actor.pk == user.pk:
        raise ValidationError(
            {"groups": "You cannot change your own roles. Ask another administrator to change them"}
        )
    before = list(user.groups.all())
    if {g.pk for g in before} == {g.pk for g in groups}:
        return False
    user.groups.set(groups)
    user._mash_roles = None  # the cached roles (core.roles.user_roles) are stale now
    security_event_record(
        kind=SecurityEvent.Kind.ROLE_CHANGED,
        user=user,
        actor=actor,
        detail=f"Roles now: {_names(groups)} (were: {_names(before)})",
        request=request,
    )
    return True


def user_account_changed(*, actor, user, fields: Iterable[str], request=None) -> None:
    """Record an administrator's change to someone's account (password, status, privileges)."""
    fields = sorted(set(fields))
    if not fields:
        return
    if actor.pk == user.pk and set(fields) & set(OWN_ACCOUNT_LOCKED):
        raise PermissionDenied("Nobody changes their own roles, status or permissions")
    if not actor.is_superuser and (set(fields) & set(PRIVILEGE_FIELDS) or user.is_superuser):
        raise PermissionDenied("Only the break-fix superuser changes superuser status or permissions")
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_CHANGED,
        user=user,
        actor=actor,
        detail=f"Changed in the admin: {', '.join(fields)}",
        request=request,
    )


# --- Review of emergency (break-glass) access -------------------------------------------------


@transaction.atomic
def break_glass_review_record(*, reviewer, entry_id: int, justified: bool, note: str) -> BreakGlassReview:
    """Information governance records whether one emergency access was justified, and why.

    Once per access, never by the person who broke the glass; who and when are kept."""
    from core.roles import Role, has_role

    if not has_role(reviewer, Role.INFORMATION_GOVERNANCE):
        raise PermissionDenied("Only information governance reviews emergency access")
    entry = AccessLogEntry.objects.select_for_update().get(pk=entry_id, break_glass=True)
    if entry.user_id == reviewer.pk:
        raise ValidationError(
            "You cannot review your own emergency access. Another information governance officer must"
        )
    if BreakGlassReview.objects.filter(entry=entry).exists():
        raise ValidationError("This emergency access has already been reviewed")
    note = reason_check(note, field="note", what="a note on why it was or was not justified")
    return BreakGlassReview.objects.create(
        entry=entry, broke_glass_by_id=entry.user_id, justified=justified, note=note, reviewed_by=reviewer
    )
