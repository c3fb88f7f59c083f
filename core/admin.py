from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

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


# --- Second factors: who has what, read-only, and never a key or a recovery code ------------------
# django-otp's own admin shows a TOTP key (and its QR code) when adding, recovery codes inline, and
# lets staff change or delete devices with no security event. Here the admin only looks; a second
# factor changes through its owner (core:two_factor_replace) or an administrator's reset
# (core:two_factor_reset), each of which writes a security event.
for model in (TOTPDevice, StaticDevice, StaticToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class SecondFactorAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    #: Everything shown, explicitly: ``key`` (TOTP) and the tokens (recovery codes) are not.
    fields = (
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_timestamp",
        "throttling_failure_count",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(TOTPDevice, SecondFactorAdmin)
admin.site.register(StaticDevice, SecondFactorAdmin)
