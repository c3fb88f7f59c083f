from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from modelguidance.models import (
    Acknowledgement,
    GuidanceSection,
    ModelGuidanceVersion,
    SafeguardingLead,
    TrainingRecord,
)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Read-only: the model guidance changes only through its pages and their services, so
    the admin is no way round the approval rule (a version's status cannot be set here)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SectionInline(admin.TabularInline):
    model = GuidanceSection
    extra = 0
    fields = ("order", "heading", "body")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModelGuidanceVersion)
class ModelGuidanceVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "approved_at", "published_at")
    list_filter = ("status",)
    readonly_fields = (
        "number",
        "title",
        "status",
        "change_summary",
        "created_at",
        "created_by",
        "submitted_at",
        "submitted_by",
        "eqia_attached_at",
        "eqia_attached_by",
        "decision",
        "approved_at",
        "approved_by",
        "published_at",
        "published_by",
        "superseded_at",
    )
    inlines = [SectionInline]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("school", "guidance_version", "sent_at", "acknowledged_at")
    list_filter = ("guidance_version",)
    readonly_fields = (
        "guidance_version",
        "school",
        "lead",
        "sent_at",
        "acknowledged_at",
        "acknowledged_name",
    )
    exclude = ("token_hash",)


class TrainingInline(admin.TabularInline):
    model = TrainingRecord
    extra = 1
    fields = ("course", "provider", "completed_on")


@admin.register(SafeguardingLead)
class SafeguardingLeadAdmin(SimpleHistoryAdmin):
    """Schools' DSLs and deputies, and their training, kept by administrators."""

    list_display = ("name", "role", "school", "email", "active")
    list_filter = ("role", "active")
    search_fields = ("name", "email", "school__name", "school__urn")
    autocomplete_fields = ("school",)
    inlines = [TrainingInline]
