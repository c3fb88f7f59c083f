"""The one declaration of which referral data is exempt (Schedule 12A, Part 1, paragraph 2).

Every channel that shows, exports, logs or renders referral data takes the boundary from
here. Anything not listed is pseudonymous case data: reference, dates, forms of abuse,
roles, age bands, school phase, same-school flag, RAG, outcome, timescale met.
"""

from __future__ import annotations

from django.db import models

from referrals.models import CaseNote, Child, ReferralDecision, ReferralDetail

#: model -> the fields on it that identify someone or are free text about the case.
EXEMPT_FIELDS: dict[type[models.Model], frozenset[str]] = {
    Child: frozenset(
        {
            "first_name",
            "last_name",
            "first_name_key",
            "last_name_key",
            "date_of_birth",
            "address",
            "postcode",
            "school",
        }
    ),
    ReferralDetail: frozenset(
        {
            "referrer_name",
            "referrer_role",
            "referrer_organisation",
            "referrer_contact",
            "narrative",
            "consent_not_sought_reason",
        }
    ),
    ReferralDecision: frozenset({"rationale", "advice_notes"}),
    CaseNote: frozenset({"text"}),
}

MASK = "[exempt]"


def is_exempt(model: type[models.Model], field_name: str) -> bool:
    concrete = getattr(model, "instance_type", model)  # historical models point at their source
    return field_name in EXEMPT_FIELDS.get(concrete, frozenset())
