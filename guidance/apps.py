from django.apps import AppConfig


class GuidanceConfig(AppConfig):
    name = "guidance"
    verbose_name = "Guidance"

    def ready(self):
        from guidance.selectors import decision_expectations
        from referrals import expectations

        expectations.register(decision_expectations)
