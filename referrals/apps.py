from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self):
        from django.db.models.signals import post_init

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

        from core.logs import remember_exempt
        from referrals.exempt import EXEMPT_FIELDS

        def remember(sender, instance, **kwargs):
            # Every exempt value loaded is masked in every log line of this request or task.
            names = EXEMPT_FIELDS.get(getattr(sender, "instance_type", sender), ())
            remember_exempt(
                *(
                    instance.__dict__.get(name)
                    for name in names
                    if not instance._meta.get_field(name).is_relation
                )
            )

        for model in EXEMPT_FIELDS:
            post_init.connect(remember, sender=model, weak=False, dispatch_uid=f"exempt-log-{model}")
            history = getattr(model, "history", None)
            if history is not None:
                post_init.connect(
                    remember, sender=history.model, weak=False, dispatch_uid=f"exempt-log-h-{model}"
                )
