from django.conf import settings

from core.roles import MASH_ROLES, user_roles


def service(request):
    roles = user_roles(request.user)
    return {
        "service_name": settings.SERVICE_NAME,
        "council_name": settings.COUNCIL_NAME,
        "user_roles": roles,
        "can_open_referrals": bool(roles & MASH_ROLES),
    }
