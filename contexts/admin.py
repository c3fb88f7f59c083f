"""Read-only in the admin: alerts are raised by the product and acted on in the service, never
edited or deleted here (an alert is never silently closed). Rules change on the rules page, so
each change gets its reason and a full run. Contexts and actions hold exempt fields (a place's
name, what a manager wrote), so they are not in the admin at all, as no exempt model is."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contexts.models import Alert, PatternRule


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PatternRule)
class PatternRuleAdmin(ReadOnlyAdmin):
    list_display = ("kind", "threshold", "window_months", "sexual_only", "active")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "rule", "status", "raised_at")
    list_filter = ("status", "rule")
