"""Rules are read-only in the admin: they change on the rules page, so each change gets its
reason and a full run. Alerts are not in the admin: an alert ties referrals to a school, place
or child, which only those who may identify the referrals see (and an alert is never edited or
closed but in the service). Contexts and actions hold exempt fields, so they are not here either,
as no exempt model is."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contexts.models import PatternRule


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
