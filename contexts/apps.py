from django.apps import AppConfig


class ContextsConfig(AppConfig):
    name = "contexts"
    verbose_name = "Contextual safeguarding"

    def ready(self):
        from contexts import services
        from contexts.models import AlertAction, Context
        from core import exempt, notifications
        from referrals import changes, dashboard

        notifications.register(services.NOTIFY_ALERT, label="Contextual safeguarding alert")
        notifications.register(services.NOTIFY_RULE, label="Contextual safeguarding rule changed")
        # A saved referral queues the check of the rules it can affect (after commit, outbox).
        changes.register(services.referrals_saved_queue)
        # The manager dashboard shows the alerts awaiting action (referrals cannot import us).
        from contexts.selectors import dashboard_panel

        dashboard.register_panel(dashboard_panel)
        # A place's key comes from what referrers wrote; what a manager wrote is about the case.
        exempt.register(Context, ["place_key"])
        exempt.register(AlertAction, ["note"])
