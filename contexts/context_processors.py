"""What the service navigation needs to know of contextual safeguarding, from the roles in
contexts.permissions, so the header offers "Contexts" only to those who may open its pages."""

from __future__ import annotations

from contexts.permissions import PUBLIC_FIGURES_READERS, RULE_EDITORS, may_see_alerts
from core.roles import has_role


def navigation(request) -> dict[str, bool]:
    user = request.user
    return {
        "can_see_alerts": may_see_alerts(user),
        "can_edit_pattern_rules": has_role(user, *RULE_EDITORS),
        "can_see_public_context_figures": has_role(user, *PUBLIC_FIGURES_READERS),
    }
