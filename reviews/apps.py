from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self):
        from core import exempt
        from reviews.models import CaseAssessment, CriterionRating

        # What reviewers and the lead reviewer write about a case is exempt like the case itself.
        exempt.register(CaseAssessment, ["good_practice", "areas_for_improvement", "lead_comments"])
        exempt.register(CriterionRating, ["evidence"])

        from reviews import retention

        retention.register()
