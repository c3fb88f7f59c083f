"""Writes to user accounts: roles and administrator changes (the admin calls these).

A role is a group (core.roles). Changing someone's roles is a security event e-mailed to
information governance, and nobody authorises themselves:

- nobody changes their own roles;
- giving a role in ``ROLES_NEEDING_APPROVAL`` is a request (``RoleRequest``) that takes effect
  only when a second administrator approves it (``role_request_decide``). The approver is not
  the requester, not the account being changed, and not an account either of them made or
  asked a role for, directly or down a chain of such accounts (``accounts_sponsored_by``): an
  administrator cannot make an account, make it an administrator and have it approve (or
  make) changes to their own roles (the sock puppet);
- an account cannot change the roles of an account that made it or asked a role for it;
- making an account is a security event, e-mailed to information governance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.models import AccessLogEntry, BreakGlassReview, RoleRequest, SecurityEvent
from core.reasons import reason_check
from core.roles import GROUP_NAMES, ROLES_NEEDING_APPROVAL, Role, has_role
from core.security_events import security_event_record

#: Account fields only a superuser (the break-fix account) may change, and nobody on their own
#: account: they widen what the account may do beyond its roles.
PRIVILEGE_FIELDS = ("is_superuser", "user_permissions")
#: Fields nobody changes on their own account in the admin.
OWN_ACCOUNT_LOCKED = ("groups", "is_staff", "is_superuser", "user_permissions", "is_active")


def _role_labels(values: Iterable[str]) -> str:
    return ", ".join(sorted(GROUP_NAMES[Role(value)] for value in values)) or "none"


def _roles_of(groups: Iterable[Group]) -> set[str]:
    label_to_role = {label: role for role, label in GROUP_NAMES.items()}
    return {label_to_role[group.name].value for group in groups if group.name in label_to_role}


def accounts_sponsored_by(user_ids: Iterable[int]) -> set[int]:
    """Every account that one of ``user_ids`` made (ACCOUNT_CREATED) or asked a role for
    (``RoleRequest``), and every account those made or asked for, down the chain."""
    edges: dict[int, set[int]] = defaultdict(set)
    made = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ACCOUNT_CREATED, actor__isnull=False)
    for sponsor, account in made.values_list("actor_id", "user_id"):
        edges[sponsor].add(account)
    for sponsor, account in RoleRequest.objects.values_list("requested_by_id", "user_id"):
        edges[sponsor].add(account)
    found: set[int] = set()
    stack = list(user_ids)
    while stack:
        for account in edges[stack.pop()]:
            if account not in found:
                found.add(account)
                stack.append(account)
    return found


def _refuse_chain(*, actor, user) -> None:
    if actor.pk == user.pk:
        raise ValidationError(
            {"groups": "You cannot change your own roles. Ask another administrator to change them"}
        )
    if actor.pk in accounts_sponsored_by([user.pk]):
        raise ValidationError(
            {
                "groups": "You cannot change the roles of the account that made yours or asked for "
                "your roles. Ask another administrator"
            }
        )


@dataclass(frozen=True)
class RoleChange:
    """What ``user_roles_change`` did: changed at once, or asked a second administrator."""

    changed: bool
    request: RoleRequest | None = None

    def __bool__(self) -> bool:
        return self.changed


def _apply_roles(*, user, roles: set[str]) -> None:
    """Give the account exactly ``roles``. Access to the admin (``is_staff``) follows the
    Administrator role and is never edited by hand: unticking it would take an administrator's
    admin away at once, which removing their role waits for a second administrator to do."""
    user.groups.set(Group.objects.filter(name__in=[GROUP_NAMES[Role(value)] for value in roles]))
    user._mash_roles = None  # the cached roles (core.roles.user_roles) are stale now
    staff = Role.ADMINISTRATOR.value in roles
    if user.is_staff != staff and not user.is_superuser:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


#: Roles whose removal also waits for a second administrator: without them nobody hears of
#: security events or administers accounts, so one administrator must not silence them.
OVERSIGHT_ROLES = frozenset({Role.INFORMATION_GOVERNANCE, Role.ADMINISTRATOR})


def holds_oversight_role(user) -> bool:
    return bool(_roles_of(Group.objects.filter(user=user.pk)) & OVERSIGHT_ROLES)


@transaction.atomic
def user_roles_change(
    *, actor, user, groups: Iterable[Group], request=None, email: str | None = None, deactivate: bool = False
) -> RoleChange:
    """Set ``user``'s roles to ``groups``, or ask a second administrator to.

    Refuses a change to one's own roles, or to the roles of an account that made (or asked
    roles for) the actor. A change that gives a role in ``ROLES_NEEDING_APPROVAL`` does not
    take effect, nor does one that removes a role in ``OVERSIGHT_ROLES``, nor (``email``,
    ``deactivate``: held back by the admin, ``oversight_change_held``) a new address for an
    oversight role's holder or their deactivation: it becomes a pending ``RoleRequest``
    (replacing any earlier one for the same account), a ROLE_REQUESTED event e-mailed to
    information governance."""
    groups = list(groups)
    _refuse_chain(actor=actor, user=user)
    before = _roles_of(Group.objects.filter(user=user.pk))
    wanted = _roles_of(groups)
    held = bool(email) or deactivate
    if before == wanted and not held:
        return RoleChange(False)
    waiting = list(
        RoleRequest.objects.select_for_update().filter(user=user, status=RoleRequest.Status.PENDING)
    )
    if held or (wanted - before) & ROLES_NEEDING_APPROVAL or (before - wanted) & OVERSIGHT_ROLES:
        # A new request replaces those waiting, and keeps what they held back (an address to
        # confirm, a deactivation): a later edit never quietly drops it.
        email = email or next((r.email for r in waiting if r.email), None)
        deactivate = deactivate or any(r.deactivate for r in waiting)
        RoleRequest.objects.filter(pk__in=[r.pk for r in waiting]).update(
            status=RoleRequest.Status.WITHDRAWN, decided_at=timezone.now()
        )
        pending = RoleRequest.objects.create(
            user=user,
            roles=sorted(wanted),
            roles_before=sorted(before),
            requested_by=actor,
            email=email or "",
            deactivate=deactivate,
        )
        also = "".join(
            [
                f"; e-mail address {email} (waits to be confirmed)" if email else "",
                "; deactivation" if deactivate else "",
            ]
        )
        security_event_record(
            kind=SecurityEvent.Kind.ROLE_REQUESTED,
            user=user,
            actor=actor,
            detail=f"Request {pending.pk}: roles {_role_labels(wanted)} (now: {_role_labels(before)}){also}; "
            "waits for another administrator",
            request=request,
        )
        return RoleChange(False, pending)
    # A change made at once overtakes the roles of any request still waiting: approving that
    # later would put back roles from before this change, which the approver could not see. What
    # such a request holds back besides roles (an address, a deactivation) still waits, now with
    # the roles as they are after this change.
    for waiting_request in waiting:
        if waiting_request.email or waiting_request.deactivate:
            waiting_request.roles = waiting_request.roles_before = sorted(wanted)
            waiting_request.save(update_fields=["roles", "roles_before"])
        else:
            waiting_request.status = RoleRequest.Status.WITHDRAWN
            waiting_request.decided_at = timezone.now()
            waiting_request.save(update_fields=["status", "decided_at"])
    _apply_roles(user=user, roles=wanted)
    security_event_record(
        kind=SecurityEvent.Kind.ROLE_CHANGED,
        user=user,
        actor=actor,
        detail=f"Roles now: {_role_labels(wanted)} (were: {_role_labels(before)})",
        request=request,
    )
    return RoleChange(True)


def account_change_held(*, actor, user, new_email: str, new_active: bool) -> tuple[str | None, bool]:
    """What of an administrator's edit to someone else's account must wait for a second
    administrator: a new e-mail address for anyone (security e-mails and password links go
    there, so one administrator redirecting it could take the account), and the deactivation of
    a holder of an oversight role (information governance, administrator). Returns (the new
    address or None, whether to deactivate); the caller keeps both unchanged and passes them to
    ``user_roles_change``. One's own address changes at once (it is one's own to give)."""
    if actor.pk == user.pk:
        return None, False
    stored = type(user).objects.filter(pk=user.pk).values("email", "is_active").first() or {}
    email = new_email if (new_email or "").lower() != (stored.get("email") or "").lower() else None
    deactivate = bool(stored.get("is_active")) and not new_active and holds_oversight_role(user)
    return email, deactivate


def account_address_confirm_request(*, actor, user, request=None) -> RoleChange:
    """A new account's address waits for a second administrator to confirm it; its holder is
    sent the link to set their password when they do (``role_request_decide``). So the one who
    made the account never chooses alone where its first password link goes."""
    return user_roles_change(
        actor=actor, user=user, groups=Group.objects.filter(user=user.pk), request=request, email=user.email
    )


def role_request_may_decide(*, approver, role_request: RoleRequest) -> str | None:
    """None if ``approver`` may decide ``role_request``; otherwise why not."""
    if not approver.is_active or not has_role(approver, Role.ADMINISTRATOR):
        return "Only another administrator decides a role change"
    if approver.pk == role_request.requested_by_id:
        return "You asked for this change: another administrator must decide it"
    if approver.pk == role_request.user_id:
        return "This change is to your own roles: another administrator must decide it"
    if approver.pk in accounts_sponsored_by([role_request.requested_by_id, role_request.user_id]):
        return (
            "Your account was made, or given its roles, by the person who asked for this change or "
            "the person it changes: an administrator outside that chain must decide it"
        )
    return None


@transaction.atomic
def role_request_decide(*, approver, request_id: int, approve: bool, request=None) -> RoleRequest:
    """A second administrator approves (the roles change now) or refuses a pending request.
    Either way a security event names the requester and the approver."""
    role_request = (
        RoleRequest.objects.select_for_update().select_related("user", "requested_by").get(pk=request_id)
    )
    if role_request.status != RoleRequest.Status.PENDING:
        raise ValidationError("This role change has already been decided")
    why_not = role_request_may_decide(approver=approver, role_request=role_request)
    if why_not:
        raise PermissionDenied(why_not)
    user = role_request.user
    role_request.decided_by = approver
    role_request.decided_at = timezone.now()
    requester = role_request.requested_by.get_username()
    if approve:
        before = _roles_of(Group.objects.filter(user=user.pk))
        _apply_roles(user=user, roles=set(role_request.roles))
        role_request.status = RoleRequest.Status.APPROVED
        approved = f"request {role_request.pk} by {requester}, approved by {approver.get_username()}"
        if role_request.email and role_request.email.lower() != (user.email or "").lower():
            previous = user.email
            user.email = role_request.email
            user.save(update_fields=["email"])
            user_email_changed(actor=approver, user=user, previous_email=previous, request=request)
        if role_request.email and not user.has_usable_password() and user.is_active:
            # A new account's confirmed address: its holder sets their own first password.
            from core.passwords import password_link_send

            password_link_send(actor=approver, user=user, request=request, first=True)
        if role_request.deactivate:
            user.is_active = False
            user.save(update_fields=["is_active"])
            security_event_record(
                kind=SecurityEvent.Kind.ACCOUNT_CHANGED,
                user=user,
                actor=approver,
                detail=f"Deactivated; {approved}",
                request=request,
            )
        if before != set(role_request.roles):
            security_event_record(
                kind=SecurityEvent.Kind.ROLE_CHANGED,
                user=user,
                actor=approver,
                detail=f"Roles now: {_role_labels(role_request.roles)} (were: {_role_labels(before)}); "
                f"{approved}",
                request=request,
            )
    else:
        role_request.status = RoleRequest.Status.REFUSED
        security_event_record(
            kind=SecurityEvent.Kind.ROLE_REFUSED,
            user=user,
            actor=approver,
            detail=f"Request {role_request.pk} by {requester} for roles {_role_labels(role_request.roles)} "
            f"refused by {approver.get_username()}",
            request=request,
        )
    role_request.save(update_fields=["status", "decided_by", "decided_at"])
    return role_request


def user_account_created(*, actor, user, request=None) -> SecurityEvent:
    """Record that an administrator made an account (information governance is told). The
    record also ties the account to its maker, so it can never approve the maker's roles."""
    return security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_CREATED,
        user=user,
        actor=actor,
        detail=f"Account {user.get_username()} created",
        request=request,
        tell_user=False,
    )


def user_email_changed(*, actor, user, previous_email: str, request=None) -> SecurityEvent | None:
    """Record a change to ``user``'s e-mail address and tell the old address and the new one
    (and information governance): security e-mails cannot be quietly redirected."""
    if (previous_email or "").lower() == (user.email or "").lower():
        return None
    return security_event_record(
        kind=SecurityEvent.Kind.EMAIL_CHANGED,
        user=user,
        actor=actor,
        detail="E-mail address changed; the old address and the new one have been told",
        request=request,
        previous_email=previous_email or "",
    )


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
