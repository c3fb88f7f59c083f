from django.apps import AppConfig


class ContextsConfig(AppConfig):
    name = "contexts"
    verbose_name = "Contextual safeguarding"

    def ready(self):
        from contexts import services
        from contexts.models import AlertAction, Context
        from core import exempt, notifications, retention
        from referrals import changes, dashboard

        notifications.register(services.NOTIFY_ALERT, label="Contextual safeguarding alert")
        notifications.register(services.NOTIFY_RULE, label="Contextual safeguarding rule changed")
        # A saved referral queues the check of the rules it can affect (after commit, outbox).
        changes.register(services.referrals_saved_queue)
        # The manager dashboard shows the alerts awaiting action (referrals cannot import us).
        from contexts.selectors import dashboard_panel

        dashboard.register_panel(dashboard_panel)
        # A case review's same-school findings link to the schools' contexts (reviews cannot
        # import us either).
        from contexts.views import review_findings_panel
        from reviews import panels

        panels.register_findings_panel(review_findings_panel)
        # A place's key comes from what referrers wrote; what a manager wrote is about the case.
        exempt.register(Context, ["place_key"])
        exempt.register(AlertAction, ["note"])
        # A place's key goes when the last referral naming the place is disposed of
        # (contexts.retention). An action is about a school or place, not one referral (ADR
        # 0024 records what outlives a disposal).
        from contexts import retention as contexts_retention

        contexts_retention.register()
        retention.register_not_per_record(AlertAction, why="What was done about a school or place")
