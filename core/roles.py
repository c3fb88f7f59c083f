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
