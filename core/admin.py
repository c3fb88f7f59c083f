from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import services
from core.models import AccessLogEntry, RoleRequest, SecurityEvent
from core.roles import GROUP_NAMES, Role, has_role
from core.two_factor import recovery_refusal


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


# --- User accounts and roles ------------------------------------------------------------------


User = get_user_model()


class UserAdmin(BaseUserAdmin):
    """Accounts and their roles, with the rules the product's own pages follow.

    Nobody changes their own roles, staff status, active status or permissions here; only a
    superuser (the break-fix account, docs/operations.md) sees superuser status or per-user
    permissions, or touches a superuser's account. A role change writes a ROLE_CHANGED
    security event and any other change to status, privileges or the password an
    ACCOUNT_CHANGED one (core.services), both e-mailed to information governance.
    """

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += services.PRIVILEGE_FIELDS
        if obj is not None and obj.pk == request.user.pk:
            fields += services.OWN_ACCOUNT_LOCKED
        return tuple(dict.fromkeys(fields))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:
            return False
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        previous_email = (
            User.objects.filter(pk=obj.pk).values_list("email", flat=True).first() if change else ""
        )
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            services.user_email_changed(
                actor=request.user, user=obj, previous_email=previous_email or "", request=request
            )
        if not change:
            services.user_account_created(actor=request.user, user=obj, request=request)
        if change:
            watched = {"username", "is_active", "is_staff", "is_superuser"}  # e-mail: its own event
            services.user_account_changed(
                actor=request.user, user=obj, fields=set(form.changed_data) & watched, request=request
            )

    def save_related(self, request, form, formsets, change):
        # Roles go through the service (refuses one's own, records the event), not save_m2m.
        groups = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if "user_permissions" in form.changed_data:
            services.user_account_changed(
                actor=request.user, user=obj, fields=["user_permissions"], request=request
            )
        if groups is not None:
            try:
                outcome = services.user_roles_change(
                    actor=request.user, user=obj, groups=groups, request=request
                )
            except ValidationError as error:
                # One's own account: the field is read-only, so only a forged form gets here.
                raise PermissionDenied(error.messages[0]) from error
            if outcome.request is not None:
                messages.warning(
                    request,
                    f"The change to {obj.get_username()}'s roles gives a role that another "
                    "administrator must approve (Role requests). Until then their roles are unchanged.",
                )

    def user_change_password(self, request, id, form_url=""):
        """Setting someone's password: refused to the administrator who reset their second factor
        recently (both by one person would hand them the account; core.two_factor)."""
        user = self.get_object(request, unquote(id))
        if user is not None and request.method == "POST":
            refusal = recovery_refusal(actor=request.user, user=user, action="password")
            if refusal:
                raise PermissionDenied(refusal)
        return super().user_change_password(request, id, form_url)

    def construct_change_message(self, request, form, formsets, add=False):
        if isinstance(form, AdminPasswordChangeForm):
            # The admin's "set password" view: the account holder and IG are told.
            services.user_account_changed(
                actor=request.user, user=form.user, fields=["password"], request=request
            )
        return super().construct_change_message(request, form, formsets, add)


@admin.register(RoleRequest)
class RoleRequestAdmin(admin.ModelAdmin):
    """Role changes waiting for a second administrator: approved or refused only through the
    actions, which call ``core.services.role_request_decide`` (it refuses the requester, the
    account changed, and anyone in their chain)."""

    list_display = ("requested_at", "user", "wanted", "was", "requested_by", "status", "decided_by")
    list_filter = ("status",)
    list_select_related = ("user", "requested_by", "decided_by")
    search_fields = ("user__username", "requested_by__username")
    actions = ("approve", "refuse")
    fields = (
        "user",
        "roles",
        "roles_before",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields

    @admin.display(description="Roles asked for")
    def wanted(self, obj):
        return ", ".join(sorted(GROUP_NAMES[Role(value)] for value in obj.roles)) or "none"

    @admin.display(description="Roles before")
    def was(self, obj):
        return ", ".join(sorted(GROUP_NAMES[Role(value)] for value in obj.roles_before)) or "none"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return has_role(request.user, Role.ADMINISTRATOR)

    def _decide(self, request, queryset, *, approve: bool):
        for role_request in queryset:
            try:
                services.role_request_decide(
                    approver=request.user, request_id=role_request.pk, approve=approve, request=request
                )
            except (PermissionDenied, ValidationError) as refused:
                message = refused.messages[0] if isinstance(refused, ValidationError) else str(refused)
                self.message_user(request, f"{role_request.user}: {message}", messages.ERROR)
            else:
                verb = "approved" if approve else "refused"
                self.message_user(request, f"{role_request.user}: role change {verb}", messages.SUCCESS)

    @admin.action(description="Approve the selected role changes", permissions=["decide"])
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse the selected role changes", permissions=["decide"])
    def refuse(self, request, queryset):
        self._decide(request, queryset, approve=False)


class GroupAdmin(BaseGroupAdmin):
    """Roles are fixed in code (core.roles.ROLE_PERMISSIONS): seen here, changed by nobody."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(TOTPDevice, SecondFactorAdmin)
admin.site.register(StaticDevice, SecondFactorAdmin)
admin.site.unregister(User)
admin.site.register(User, UserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
