"""The product's roles. Each is a Django group; membership is what a user may do."""

from django.db import models


class Role(models.TextChoices):
    MASH_PRACTITIONER = "mash_practitioner", "MASH practitioner"
    MASH_MANAGER = "mash_manager", "MASH manager"
    REVIEWER = "reviewer", "Reviewer"
    LEAD_REVIEWER = "lead_reviewer", "Lead reviewer"
    REPORT_OFFICER = "report_officer", "Report officer"
    INFORMATION_GOVERNANCE = "information_governance", "Information governance"
    ADMINISTRATOR = "administrator", "Administrator"


#: Group names as stored in auth_group (the human label, so the admin reads well).
GROUP_NAMES: dict[Role, str] = {role: role.label for role in Role}

#: Roles whose work is the MASH front door: they may open referrals.
MASH_ROLES = frozenset({Role.MASH_PRACTITIONER, Role.MASH_MANAGER})

#: Roles whose work touches case reviews: they see the list of reviews (a reviewer only those
#: they are on). Nobody else opens it, administrators included.
CASE_REVIEW_ROLES = frozenset(
    {Role.REVIEWER, Role.LEAD_REVIEWER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE}
)

#: Roles that give access to others (account roles: Administrator; per-record grants: MASH
#: manager, lead reviewer, information governance) or open children's identities by the role
#: alone (the MASH roles, information governance). Giving one is a request that a second
#: administrator approves (core.services.user_roles_change, role_request_decide): otherwise an
#: administrator could make an account, give it one of these, and use it, or have it change
#: their own roles (the sock puppet). Reviewers and report officers see identities only through
#: a grant someone else gives, so they are given at once.
ROLES_NEEDING_APPROVAL = frozenset(
    {
        Role.ADMINISTRATOR,
        Role.INFORMATION_GOVERNANCE,
        Role.MASH_MANAGER,
        Role.LEAD_REVIEWER,
        Role.MASH_PRACTITIONER,
    }
)


def user_roles(user) -> frozenset[Role]:
    """The roles a user holds, read once per request and cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_mash_roles", None)
    if cached is None:
        label_to_role = {label: role for role, label in GROUP_NAMES.items()}
        names = user.groups.values_list("name", flat=True)
        cached = frozenset(label_to_role[n] for n in names if n in label_to_role)
        user._mash_roles = cached
    return cached


def has_role(user, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def _crud(label: str, *actions: str) -> frozenset[str]:
    app_label, model = label.split(".")
    return frozenset(f"{app_label}.{action}_{model}" for action in actions)


_KEEP = ("add", "change", "view")

#: The Django model permissions each role's group holds, and nothing else: the Administrator's
#: job is reference data, user accounts and their roles, and reading the access log. No role
#: holds a permission on case data, grants, groups (their permissions are fixed here, so no
#: administrator can widen a role by editing it) or authenticators. ``role_permissions_sync``
#: sets the groups to exactly this after every migrate.
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMINISTRATOR: frozenset().union(
        # Reference data.
        *(
            _crud(label, *_KEEP)
            for label in (
                "referrals.school",
                "referrals.referralsource",
                "referrals.outcome",
                "referrals.abuseform",
                "referrals.raglevel",
                "scrutiny.committee",
                "scrutiny.meeting",
                "scrutiny.agendaitem",
                "scrutiny.agendaentry",
                "guidance.guidancedocument",
                "guidance.criterion",
                "modelguidance.safeguardinglead",
                "modelguidance.trainingrecord",
            )
        ),
        _crud("modelguidance.modelguidanceversion", "view"),
        _crud("modelguidance.acknowledgement", "view"),
        # User accounts and their roles (a role is a group: seen, never changed).
        _crud("auth.user", *_KEEP),
        _crud("auth.group", "view"),
        # The read-only access log, and sign-in lock-outs (read only).
        _crud("core.accesslogentry", "view"),
        # Role changes waiting for a second administrator (decided through core.services).
        _crud("core.rolerequest", "view"),
        _crud("axes.accessattempt", "view"),
    ),
}


def role_permissions_sync(**kwargs) -> None:
    """Set every role's group to exactly its ``ROLE_PERMISSIONS`` (a post_migrate handler).

    Permissions not created yet (another app's post_migrate has not run) are skipped this
    time and added on that app's run: the handler runs once per migrated app."""
    from django.contrib.auth.models import Group, Permission

    groups = {group.name: group for group in Group.objects.filter(name__in=GROUP_NAMES.values())}
    wanted_all = set().union(*ROLE_PERMISSIONS.values())
    found = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={name.split(".")[1] for name in wanted_all}
        )
    }
    for role, label in GROUP_NAMES.items():
        group = groups.get(label)
        if group is None:
            continue
        wanted = [found[name] for name in ROLE_PERMISSIONS.get(role, ()) if name in found]
        group.permissions.set(wanted)
