from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import passwords, services
from core.models import AccessLogEntry, RoleRequest, SecurityEvent
from core.roles import GROUP_NAMES, Role, has_role


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


class AccountCreationForm(forms.ModelForm):
    """A new account: who it is for and where its link goes. No password: the holder sets their
    own from the e-mailed link (core.passwords), so its maker never knows it."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields[
            "email"
        ].help_text = "Their own work address: the link to set their password goes there, and only there."

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("An account with this username already exists (in any case)")
        return username

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class UserAdmin(BaseUserAdmin):
    """Accounts and their roles, with the rules the product's own pages follow.

    Nobody changes their own roles, staff status, active status or permissions here; only a
    superuser (the break-fix account, docs/operations.md) sees superuser status or per-user
    permissions, or touches a superuser's account. A role change writes a ROLE_CHANGED
    security event and any other change to status, privileges or the password an
    ACCOUNT_CHANGED one (core.services), both e-mailed to information governance.

    Nobody sets a password here: a new account's holder is e-mailed a link to set their own,
    and "Send a link to set a new password" (an action) helps one who has forgotten theirs.
    """

    add_form = AccountCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "first_name", "last_name", "email")}),
    )
    fieldsets = ((None, {"fields": ("username",)}), *BaseUserAdmin.fieldsets[1:])
    actions = ("send_password_link",)

    def get_readonly_fields(self, request, obj=None):
        # Admin access follows the Administrator role (core.services._apply_roles); the dates
        # are the service's record, not an administrator's to edit.
        fields = [*super().get_readonly_fields(request, obj), "last_login", "date_joined"]
        if not request.user.is_superuser:
            fields.append("is_staff")
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
        # A new address (anyone's) or an oversight role holder's deactivation waits for a second
        # administrator: kept unchanged now, asked for in save_related (core.services).
        request._mash_held = (None, False)
        if change:
            held_email, deactivate = services.account_change_held(
                actor=request.user, user=obj, new_email=obj.email, new_active=obj.is_active
            )
            request._mash_held = (held_email, deactivate)
            if held_email is not None:
                obj.email = previous_email
                form.changed_data.remove("email")
            if deactivate:
                obj.is_active = True
                form.changed_data.remove("is_active")
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            services.user_email_changed(
                actor=request.user, user=obj, previous_email=previous_email or "", request=request
            )
        if not change:
            services.user_account_created(actor=request.user, user=obj, request=request)
            services.account_address_confirm_request(actor=request.user, user=obj, request=request)
            messages.info(
                request,
                f"Another administrator must confirm {obj.get_username()}'s e-mail address (Role "
                "requests). Then its holder is e-mailed a link to set their own password.",
            )
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
        held_email, deactivate = getattr(request, "_mash_held", (None, False))
        if groups is None and (held_email or deactivate):
            groups = obj.groups.all()
        if groups is not None:
            try:
                outcome = services.user_roles_change(
                    actor=request.user,
                    user=obj,
                    groups=groups,
                    request=request,
                    email=held_email,
                    deactivate=deactivate,
                )
            except ValidationError as error:
                # One's own account: the field is read-only, so only a forged form gets here.
                raise PermissionDenied(error.messages[0]) from error
            if outcome.request is not None:
                messages.warning(
                    request,
                    f"Another administrator must approve the change to {obj.get_username()}'s account "
                    "(Role requests): it gives a role that gives access, or is a new e-mail address or "
                    "deactivation for someone in information governance or administration. Until then "
                    "their account is unchanged.",
                )

    def user_change_password(self, request, id, form_url=""):
        """No administrator types anyone's password: they send the holder a link instead."""
        if self.get_object(request, unquote(id)) is None:
            raise Http404("Page not found")
        raise PermissionDenied(
            "Passwords are set by their holders. Send them a link to set a new one instead."
        )

    @admin.action(description="Send a link to set a new password (to their own e-mail address)")
    def send_password_link(self, request, queryset):
        for user in queryset:
            try:
                passwords.password_link_send(actor=request.user, user=user, request=request)
            except (PermissionDenied, ValidationError) as refused:
                message = refused.messages[0] if isinstance(refused, ValidationError) else str(refused)
                self.message_user(request, f"{user}: {message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{user}: a link to set a new password is on its way to their own e-mail address",
                    messages.SUCCESS,
                )


@admin.register(RoleRequest)
class RoleRequestAdmin(admin.ModelAdmin):
    """Role changes waiting for a second administrator: approved or refused only through the
    actions, which call ``core.services.role_request_decide`` (it refuses the requester, the
    account changed, and anyone in their chain)."""

    list_display = (
        "requested_at",
        "user",
        "wanted",
        "was",
        "email",
        "deactivate",
        "requested_by",
        "status",
        "decided_by",
    )
    list_filter = ("status",)
    list_select_related = ("user", "requested_by", "decided_by")
    search_fields = ("user__username", "requested_by__username")
    actions = ("approve", "refuse")
    fields = (
        "user",
        "roles",
        "roles_before",
        "email",
        "deactivate",
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


def _own_password_change(request, extra_context=None):
    """The admin's "Change password" link: the service's own page, which records the change
    and e-mails the holder (core.views.PasswordChangeView)."""
    return redirect("core:password_change")


admin.site.password_change = _own_password_change
