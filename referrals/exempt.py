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
    ReferralDecision: frozenset(
        {"rationale", "advice_notes", "guidance_departure_reason", "amendment_reason", "authorisation_note"}
    ),
    CaseNote: frozenset({"text"}),
}


def _review_fields() -> dict[type[models.Model], frozenset[str]]:
    from reviews.models import CaseAssessment, CriterionRating

    return {
        CaseAssessment: frozenset({"good_practice", "areas_for_improvement", "lead_comments"}),
        CriterionRating: frozenset({"evidence"}),
    }


EXEMPT_FIELDS.update(_review_fields())

MASK = "[exempt]"


def is_exempt(model: type[models.Model], field_name: str) -> bool:
    concrete = getattr(model, "instance_type", model)  # historical models point at their source
    return field_name in EXEMPT_FIELDS.get(concrete, frozenset())


def exempt_field_names() -> list[str]:
    """Every exempt field as ``Model.field``: what an access-log row says was shown."""
    return sorted(f"{model.__name__}.{name}" for model, names in EXEMPT_FIELDS.items() for name in names)


def mask(instance: models.Model) -> models.Model:
    """Blank an unsaved copy's exempt fields in memory, so no template can show them."""
    for name in EXEMPT_FIELDS.get(type(instance), ()):
        field = instance._meta.get_field(name)
        if field.is_relation:
            setattr(instance, field.attname, None)
            instance._state.fields_cache.pop(name, None)
        elif isinstance(field, (models.CharField, models.TextField)):
            setattr(instance, name, MASK)
        else:
            setattr(instance, name, None)
    instance._masked = True
    return instance
