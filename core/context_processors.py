from django.conf import settings

from core.permissions import can_open_referrals, does_case_work, is_verified
from core.roles import CASE_REVIEW_ROLES, MASH_ROLES, Role, user_roles

#: The model guidance app's pages that belong under "DSL training" in the service navigation.
DSL_TRAINING_PAGES = {"coverage", "training_reminders", "school_coverage"}


def nav_section(request, *, can_edit_guidance: bool, can_see_dsl_training: bool) -> str:
    """Which one item of the service navigation the page sits under: "Guidance" (the DfE
    library), "Model guidance" or "DSL training" - never two at once."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.app_name == "modelguidance":
        if match.url_name in DSL_TRAINING_PAGES:
            return "dsl_training" if can_see_dsl_training else "guidance"
        return "model_guidance" if can_edit_guidance else "guidance"
    return "guidance" if match.app_name == "guidance" else ""


def service(request):
    roles = user_roles(request.user)
    can_edit_guidance = bool(roles & {Role.REPORT_OFFICER, Role.ADMINISTRATOR})
    can_see_dsl_training = bool(roles & {Role.REPORT_OFFICER, Role.ADMINISTRATOR, Role.MASH_MANAGER})
    return {
        "service_name": settings.SERVICE_NAME,
        "council_name": settings.COUNCIL_NAME,
        "public_service_name": settings.PUBLIC_SERVICE_NAME,
        "user_roles": roles,
        "can_open_referrals": can_open_referrals(request.user),
        "can_see_tray": does_case_work(request.user),
        "can_create_referrals": bool(roles & MASH_ROLES),
        "is_information_governance": Role.INFORMATION_GOVERNANCE in roles,
        "is_administrator": Role.ADMINISTRATOR in roles,
        "can_see_reviews": bool(roles & CASE_REVIEW_ROLES),
        "can_see_scrutiny": bool(
            roles & {Role.REPORT_OFFICER, Role.LEAD_REVIEWER, Role.INFORMATION_GOVERNANCE}
        ),
        "can_edit_guidance": can_edit_guidance,
        "can_see_dsl_training": can_see_dsl_training,
        "nav_section": nav_section(
            request, can_edit_guidance=can_edit_guidance, can_see_dsl_training=can_see_dsl_training
        ),
        "otp_verified": is_verified(request.user),
    }


def notifications(request):
    """The header's unread count: one query, made only when a page shows it."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return {}
    from django.utils.functional import SimpleLazyObject

    from core.notifications import unread_count

    return {"notifications_unread": SimpleLazyObject(lambda: unread_count(user=user))}
