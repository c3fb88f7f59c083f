"""The access-control wrapper: the only module that imports django-guardian.

Per-record grants are guardian object permissions kept in direct-foreign-key tables (one
user table and one group table per guarded model), extended with who gave the grant, why,
when, and when it stops working. Every check goes through the functions here, in SQL, and
honours expiry; guardian's own backend is deliberately not installed, because it does not
know about expiry and would be a second way in (see docs/adr/0005-grants.md).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce

from django.conf import settings
from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from core.records import delete_with_history, save_with_history
from core.roles import GROUP_NAMES, MASH_ROLES, Role, user_roles

VIEW_EXEMPT = "view_exempt"
CHANGE = "change"


class GrantKind(models.TextChoices):
    DEFAULT = "default", "Default (live referral)"
    EXPLICIT = "explicit", "Granted by a manager"
    BREAK_GLASS = "break_glass", "Break-glass (emergency)"
    REVIEW = "review", "Case review assignment"


class GrantFields(models.Model):
    """What guardian does not record: who gave the grant, why, when, and until when."""

    kind = models.CharField(max_length=20, choices=GrantKind.choices, default=GrantKind.EXPLICIT)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


#: Kinds of grant a user may hold by their own act: emergency access only (it ends, and
#: information governance reviews it afterwards). Every other grant names a second person: a
#: case review's grant is given by its lead reviewer, who is never assigned a case (docs/adr).
SELF_GIVEN_KINDS = (GrantKind.BREAK_GLASS,)


def not_self_granted() -> models.CheckConstraint:
    """Nobody grants to themselves: ``granted_by`` is never the holder, except for the kinds
    above and only with an end date. The database refuses it whatever code writes the row."""
    return models.CheckConstraint(
        condition=Q(granted_by__isnull=True)
        | ~Q(granted_by=models.F("user"))
        | Q(kind__in=[str(k) for k in SELF_GIVEN_KINDS], expires_at__isnull=False),
        name="%(app_label)s_%(class)s_not_self_granted",
    )


#: Every grant a person gives on a record (``GrantKind.EXPLICIT``: a manager's on a referral,
#: information governance's on a report's exempt appendices) ends: 30 days from today unless
#: the grantor says, never more than 90 days away.
GRANT_DEFAULT_DAYS = 30
GRANT_MAX_DAYS = 90


def grant_default_end() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=GRANT_DEFAULT_DAYS)


def grant_end_error(expires_on: dt.date, *, noun: str = "The date the grant ends") -> str | None:
    """Why ``expires_on`` cannot end a grant given today, or None."""
    today = timezone.localdate()
    if expires_on <= today:
        return f"{noun} must be in the future"
    if expires_on > today + dt.timedelta(days=GRANT_MAX_DAYS):
        return f"{noun} must be within {GRANT_MAX_DAYS} days of today"
    return None


def grant_ends_at(expires_on: dt.date) -> dt.datetime:
    """A grant ends as its end date begins (local midnight)."""
    return dt.datetime.combine(expires_on, dt.time(0), tzinfo=timezone.get_current_timezone())


def explicit_grant_ends() -> models.CheckConstraint:
    """A grant a person gives always has an end date; the database refuses one without."""
    return models.CheckConstraint(
        condition=~Q(kind=GrantKind.EXPLICIT.value) | Q(expires_at__isnull=False),
        name="%(app_label)s_%(class)s_explicit_grant_ends",
    )


class GrantRefused(ValueError):
    """A grant the rules refuse (raised by ``grant_many``); the message says why."""


class SelfGrantError(GrantRefused):
    """A grant given to the person giving it."""


class UserGrantBase(GrantFields, UserObjectPermissionBase):
    class Meta(UserObjectPermissionBase.Meta):
        abstract = True
        constraints = [not_self_granted(), explicit_grant_ends()]


class GroupGrantBase(GrantFields, GroupObjectPermissionBase):
    class Meta(GroupObjectPermissionBase.Meta):
        abstract = True
        constraints = [explicit_grant_ends()]


def _codename(model: type[models.Model], action: str) -> str:
    return f"{action}_{model._meta.model_name}"


def _permissions(model: type[models.Model], actions: Iterable[str]) -> dict[str, Permission]:
    """The permission rows for ``actions`` on ``model``, in one query."""
    content_type = ContentType.objects.get_for_model(model)
    codenames = {_codename(model, action): action for action in actions}
    found = {
        codenames[permission.codename]: permission
        for permission in Permission.objects.select_related("content_type").filter(
            content_type=content_type, codename__in=codenames
        )
    }
    if len(found) != len(codenames):
        missing = sorted(set(codenames) - {_codename(model, action) for action in found})
        raise Permission.DoesNotExist(f"No permission {', '.join(missing)}")
    return found


def _active(now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


@dataclass(frozen=True)
class StandingRule:
    """Access that holders of ``roles`` have to every row in a state, without a grant.

    An app declares it in its ``ready()`` (the MASH team reads closed referrals for history
    checks): the state is a condition on the guarded model's own columns, checked in the same
    SQL as the grants, so a record leaves the rule the moment its state changes.
    """

    model: type[models.Model]
    roles: frozenset[Role]
    actions: frozenset[str]
    condition: Callable[[], Q]
    description: str


_STANDING_RULES: list[StandingRule] = []


def register_standing_rule(
    model: type[models.Model],
    *,
    roles: Iterable[Role],
    actions: Iterable[str],
    condition: Callable[[], Q],
    description: str,
) -> None:
    rule = StandingRule(model, frozenset(roles), frozenset(actions), condition, description)
    if rule not in _STANDING_RULES:
        _STANDING_RULES.append(rule)


def standing_rules(model: type[models.Model]) -> list[StandingRule]:
    return [rule for rule in _STANDING_RULES if rule.model is model]


def _standing(model: type[models.Model], user, action: str, key: str) -> Q | None:
    """The rows the user reaches through a standing rule, as a condition (None: no rule covers
    the action). The role test is part of the same SQL (an uncorrelated EXISTS on the user's
    groups), so it costs no query of its own."""
    conditions = [
        rule.condition() & Q(Exists(user.groups.filter(name__in=[GROUP_NAMES[role] for role in rule.roles])))
        for rule in standing_rules(model)
        if action in rule.actions
    ]
    if not conditions:
        return None
    condition = reduce(operator.or_, conditions)
    if key == "pk":
        return condition
    return Q(Exists(model.objects.filter(condition, pk=OuterRef(key))))


def _grant_subqueries(model: type[models.Model], user, action: str):
    """Primary keys of ``model`` rows the user holds ``action`` on, as two SQL subqueries."""
    user_table = get_user_obj_perms_model(model)
    group_table = get_group_obj_perms_model(model)
    codename = _codename(model, action)
    by_user = user_table.objects.filter(_active(), user_id=user.pk, permission__codename=codename).values(
        "content_object_id"
    )
    by_group = group_table.objects.filter(
        _active(), group__in=user.groups.all(), permission__codename=codename
    ).values("content_object_id")
    return by_user, by_group


def filter_granted(
    queryset: QuerySet, *, user, action: str = VIEW_EXEMPT, via: str | None = None
) -> QuerySet:
    """The rows of ``queryset`` the user holds a live grant on (or reaches through a standing
    rule of one of their roles), filtered in SQL.

    With ``via``, a foreign key of the queryset's model, the grant is on the row that key
    points to instead (``via="referral"`` on a referral's children): the test is on the
    key's column, without joining the guarded table.
    """
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    model = queryset.model if via is None else queryset.model._meta.get_field(via).related_model
    key = "pk" if via is None else via
    by_user, by_group = _grant_subqueries(model, user, action)
    allowed = Q(**{f"{key}__in": by_user}) | Q(**{f"{key}__in": by_group})
    standing = _standing(model, user, action, key)
    if standing is not None:
        allowed |= standing
    return queryset.filter(allowed)


def granted_ids(
    model: type[models.Model], *, user, ids: Iterable[int], action: str = VIEW_EXEMPT
) -> set[int]:
    """Which of ``ids`` the user holds a live grant on: one query, for a page of rows."""
    ids = list(ids)
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    rows = filter_granted(model.objects.filter(pk__in=ids), user=user, action=action)
    return set(rows.values_list("pk", flat=True))


def has_grant(user, obj: models.Model, action: str = VIEW_EXEMPT) -> bool:
    return bool(granted_ids(type(obj), user=user, ids=[obj.pk], action=action))


def is_verified(user) -> bool:
    """Signed in with a second factor in this session (django-otp)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def can_see_exempt(user, obj: models.Model) -> bool:
    """Exempt data needs both a live grant and a session verified with two-factor sign-in."""
    return is_verified(user) and has_grant(user, obj, VIEW_EXEMPT)


def exempt_ids(model: type[models.Model], *, user, ids: Iterable[int]) -> set[int]:
    if not is_verified(user):
        return set()
    return granted_ids(model, user=user, ids=ids, action=VIEW_EXEMPT)


@dataclass(frozen=True)
class GrantRow:
    id: int
    holder: str
    holder_kind: str  # "user" or "group"
    action: str
    kind: str
    granted_by: str
    reason: str
    granted_at: dt.datetime
    expires_at: dt.datetime | None
    active: bool


def grants_on(obj: models.Model) -> list[GrantRow]:
    """Every grant on a record (live and expired), for the people who manage them."""
    model = type(obj)
    rows: list[GrantRow] = []
    now = timezone.now()
    for table, holder_kind in (
        (get_user_obj_perms_model(model), "user"),
        (get_group_obj_perms_model(model), "group"),
    ):
        for grant in table.objects.filter(content_object=obj).select_related(
            holder_kind, "permission", "granted_by"
        ):
            holder = getattr(grant, holder_kind)
            rows.append(
                GrantRow(
                    id=grant.pk,
                    holder=holder.get_full_name() or holder.get_username()
                    if holder_kind == "user"
                    else holder.name,
                    holder_kind=holder_kind,
                    action=grant.permission.codename.removesuffix(f"_{model._meta.model_name}"),
                    kind=grant.get_kind_display(),
                    granted_by=(grant.granted_by.get_username() if grant.granted_by else "System"),
                    reason=grant.reason,
                    granted_at=grant.granted_at,
                    expires_at=grant.expires_at,
                    active=grant.expires_at is None or grant.expires_at > now,
                )
            )
    rows.sort(key=lambda r: (not r.active, r.holder_kind, r.holder, r.action))
    return rows


@dataclass(frozen=True)
class GrantEvent:
    when: dt.datetime
    what: str  # given, renewed, removed
    holder: str
    action: str
    by: str
    reason: str


def grant_history(obj: models.Model) -> list[GrantEvent]:
    """Every grant given, renewed or removed on a record, newest first (from their history)."""
    model = type(obj)
    events: list[GrantEvent] = []
    what = {"+": "Given", "~": "Renewed", "-": "Removed"}
    for table, holder_kind in (
        (get_user_obj_perms_model(model), "user"),
        (get_group_obj_perms_model(model), "group"),
    ):
        records = table.history.filter(content_object_id=obj.pk).select_related(
            "history_user", "permission", holder_kind
        )
        for record in records:
            holder = getattr(record, holder_kind)
            events.append(
                GrantEvent(
                    when=record.history_date,
                    what=what[record.history_type],
                    holder=(holder.get_username() if holder_kind == "user" else f"{holder.name} (group)"),
                    action="See identities"
                    if record.permission.codename.startswith(VIEW_EXEMPT)
                    else "Change",
                    by=record.history_user.get_username() if record.history_user else "System",
                    reason=record.history_change_reason or record.reason,
                )
            )
    events.sort(key=lambda e: e.when, reverse=True)
    return events


def holds_no_grants(user) -> bool:
    """Administrators keep the accounts and reference data: they never hold a grant on case
    data, so no role can be given a way in by the person who manages roles."""
    return Group.objects.filter(name=GROUP_NAMES[Role.ADMINISTRATOR], user=user.pk).exists()


def grant(
    obj: models.Model,
    *,
    action: str,
    reason: str,
    user=None,
    group: Group | None = None,
    granted_by=None,
    kind: str = GrantKind.EXPLICIT,
    expires_at: dt.datetime | None = None,
    acting=None,
):
    """Give (or renew) a grant. Returns the grant row; its history records the change."""
    if (user is None) == (group is None):
        raise ValueError("grant needs exactly one of user or group")
    [row] = grant_many(
        obj,
        actions=[action],
        reason=reason,
        users=[user] if user is not None else [],
        groups=[group] if group is not None else [],
        granted_by=granted_by,
        kind=kind,
        expires_at=expires_at,
        acting=acting,
    )
    return row


def grant_many(
    obj: models.Model,
    *,
    actions: Iterable[str],
    reason: str,
    users: Iterable = (),
    groups: Iterable[Group] = (),
    granted_by=None,
    kind: str = GrantKind.EXPLICIT,
    expires_at: dt.datetime | None = None,
    acting=None,
) -> list:
    """Give (or renew) every action to every holder on one record.

    The same as ``grant`` for each action and holder in turn (each row saved, so its history
    records the change), with the permissions and the existing rows read once rather than
    once per grant.

    ``granted_by`` is the person who authorised the grant, never one of ``users`` (except for
    the ``SELF_GIVEN_KINDS``, with an end date); a grant given by rule (a live referral's
    defaults) has none, and ``acting`` names who set it off, for the grant's history.

    An ``EXPLICIT`` grant always ends: ``GRANT_DEFAULT_DAYS`` from today if no end is given,
    and never more than ``GRANT_MAX_DAYS`` away (``GrantRefused``).
    """
    model = type(obj)
    actions, users, groups = list(actions), list(users), list(groups)
    if kind == GrantKind.EXPLICIT:
        if expires_at is None:
            expires_at = grant_ends_at(grant_default_end())
        elif expires_at > grant_ends_at(timezone.localdate() + dt.timedelta(days=GRANT_MAX_DAYS)):
            raise GrantRefused(f"A grant ends within {GRANT_MAX_DAYS} days")
    if (
        users
        and Group.objects.filter(
            name=GROUP_NAMES[Role.ADMINISTRATOR], user__in=[holder.pk for holder in users]
        ).exists()
    ):
        raise GrantRefused("Administrators hold no grant on case data")
    if granted_by is not None and kind not in SELF_GIVEN_KINDS:
        if any(holder.pk == granted_by.pk for holder in users):
            raise SelfGrantError("Nobody can give themselves a grant")
    elif granted_by is not None and expires_at is None and any(u.pk == granted_by.pk for u in users):
        raise SelfGrantError("Emergency access given to oneself must end")
    found = _permissions(model, actions)
    tables = [
        ("user", get_user_obj_perms_model(model), users),
        ("group", get_group_obj_perms_model(model), groups),
    ]
    rows = []
    with transaction.atomic():
        existing = {}
        for holder_kind, table, holders in tables:
            if not holders:
                continue
            for row in table.objects.select_for_update().filter(
                content_object=obj,
                permission__in=list(found.values()),
                **{f"{holder_kind}__in": holders},
            ):
                existing[holder_kind, getattr(row, f"{holder_kind}_id"), row.permission_id] = row
        for action in actions:
            permission = found[action]
            for holder_kind, table, holders in tables:
                for holder in holders:
                    row = existing.get((holder_kind, holder.pk, permission.pk))
                    renewed = row is not None
                    if row is None:
                        row = table(content_object=obj, permission=permission, **{holder_kind: holder})
                    row.kind, row.granted_by, row.reason = kind, granted_by, reason
                    row.expires_at, row.granted_at = expires_at, timezone.now()
                    save_with_history(
                        row, user=acting or granted_by, reason=f"Renewed: {reason}" if renewed else reason
                    )
                    rows.append(row)
    return rows


def revoke(obj: models.Model, *, grant_id: int, holder_kind: str, revoked_by, reason: str) -> None:
    """Remove a grant at once. The grant's history keeps who removed it and why."""
    model = type(obj)
    table = get_user_obj_perms_model(model) if holder_kind == "user" else get_group_obj_perms_model(model)
    row = table.objects.get(pk=grant_id, content_object=obj)
    delete_with_history(row, user=revoked_by, reason=f"Revoked: {reason}")


def revoke_kind(obj: models.Model, *, kind: str, revoked_by, reason: str) -> int:
    """Remove every grant of one kind on a record (e.g. the defaults when a referral closes)."""
    model = type(obj)
    count = 0
    for table in (get_user_obj_perms_model(model), get_group_obj_perms_model(model)):
        for row in table.objects.filter(content_object=obj, kind=kind):
            delete_with_history(row, user=revoked_by, reason=f"Revoked: {reason}")
            count += 1
    return count


def revoke_user_kind(obj: models.Model, *, user, kind: str, revoked_by, reason: str) -> int:
    """Remove one user's grants of one kind on a record (e.g. a reviewer's when a review closes)."""
    count = 0
    for row in get_user_obj_perms_model(type(obj)).objects.filter(content_object=obj, user=user, kind=kind):
        delete_with_history(row, user=revoked_by, reason=f"Revoked: {reason}")
        count += 1
    return count


def delete_expired(model: type[models.Model]) -> int:
    """Housekeeping: expired grants already stop working; this removes them, with history."""
    count = 0
    now = timezone.now()
    for table in (get_user_obj_perms_model(model), get_group_obj_perms_model(model)):
        for row in table.objects.filter(expires_at__lte=now):
            delete_with_history(row, user=None, reason="Expired")  # housekeeping: no person
            count += 1
    return count


# --- Role checks for views -------------------------------------------------------------------


def can_open_referrals(user) -> bool:
    """MASH roles and information governance may open any referral (pseudonymised)."""
    return bool(user_roles(user) & (MASH_ROLES | {Role.INFORMATION_GOVERNANCE}))


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


#: Roles whose work touches case data: everyone but the administrator, who holds no grant on it
#: and so has no work tray, no export, no referral (``holds_no_grants``).
CASE_WORK_ROLES = frozenset(Role) - {Role.ADMINISTRATOR}


def does_case_work(user) -> bool:
    roles = user_roles(user)
    return bool(roles & CASE_WORK_ROLES) and Role.ADMINISTRATOR not in roles


class CaseWorkRequiredMixin(RoleRequiredMixin):
    """Pages over case data (the work tray and its export): a 404 for an administrator even if
    they hold another role too, as for anyone with no case-work role."""

    roles = CASE_WORK_ROLES

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not does_case_work(request.user):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)
