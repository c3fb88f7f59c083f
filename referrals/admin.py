"""The admin holds reference data only: case records are never reachable here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from referrals.models import (
    AbuseForm,
    DecisionAuthorisationRule,
    Outcome,
    RagLevel,
    ReferralSource,
    School,
)


@admin.register(School)
class SchoolAdmin(SimpleHistoryAdmin):
    list_display = ("name", "urn", "phase", "local_authority", "active")
    list_filter = ("phase", "active")
    search_fields = ("name", "urn")


@admin.register(ReferralSource, Outcome)
class ReferenceDataAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "order", "active")
    list_editable = ("order", "active")


@admin.register(AbuseForm)
class AbuseFormAdmin(SimpleHistoryAdmin):
    list_display = ("name", "first_named_in", "is_sexual", "order", "active")
    list_filter = ("is_sexual", "active")


@admin.register(RagLevel)
class RagLevelAdmin(SimpleHistoryAdmin):
    list_display = ("name", "response_hours", "order", "active")


@admin.register(DecisionAuthorisationRule)
class DecisionAuthorisationRuleAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "outcome", "abuse_form", "sexual_abuse_only", "active")
    list_filter = ("active", "sexual_abuse_only")
