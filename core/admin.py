from django.contrib import admin

from core.models import AccessLogEntry, SecurityEvent


@admin.register(AccessLogEntry)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the admin can look, never change or remove."""

    list_display = ("at", "user", "record_label", "channel", "break_glass", "ip_address")
    list_filter = ("channel", "break_glass")
    search_fields = ("record_label", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: security events are written by services, never by hand."""

    list_display = ("at", "kind", "user", "actor", "detail")
    list_filter = ("kind",)
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
