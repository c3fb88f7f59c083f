from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self):
        from core import notifications

        notifications.register("referral_allocated", label="Referral allocated to you")
        notifications.register("referral_overdue", label="Referral overdue")
        from core import permissions
        from core.roles import MASH_ROLES
        from referrals.models import Referral

        permissions.register_standing_rule(
            Referral,
            roles=MASH_ROLES,
            actions=[permissions.VIEW_EXEMPT],
            condition=Referral.readable_for_history_checks,
            description="The MASH team reads closed referrals that are not restricted (history checks)",
        )

        from core import exempt
        from referrals.models import CaseNote, Child, ReferralDecision, ReferralDetail

        # The exempt information a referral holds: who the children are, who referred, and
        # everything written about the case (core.exempt: masked in pages, history and logs).
        exempt.register(
            Child,
            [
                "first_name",
                "last_name",
                "first_name_key",
                "last_name_key",
                "date_of_birth",
                "address",
                "postcode",
                "school",
            ],
        )
        exempt.register(
            ReferralDetail,
            [
                "referrer_name",
                "referrer_role",
                "referrer_organisation",
                "referrer_contact",
                "narrative",
                "consent_not_sought_reason",
                "incident_place",
                "incident_place_key",
            ],
        )
        exempt.register(
            ReferralDecision,
            [
                "rationale",
                "advice_notes",
                "guidance_departure_reason",
                "amendment_reason",
                "authorisation_note",
            ],
        )
        exempt.register(CaseNote, ["text"])

        from referrals import retention

        # Referrals are a record type of the retention schedule (core.retention).
        retention.register()
