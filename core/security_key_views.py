"""Security keys: the JSON ceremonies (django-otp-webauthn's views under this project's rules)
and the account pages that list, add and remove them. The rules live in core.security_keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import IntegrityError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django_otp import login as otp_login
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions

from core import security_keys, two_factor
from core.permissions import is_verified
from core.views import step_up_context, step_up_form, step_up_from_form


class PasswordAgainRequired(exceptions.OTPWebAuthnApiError):
    """The step-up (password and a current or recovery code) has not been done, or is used up."""

    status_code = 403
    default_detail = (
        "Enter your password and a code from your authenticator app, or a recovery code, "
        "before you add a security key."
    )
    default_code = "password_again_required"


class KeyAlreadyAdded(exceptions.OTPWebAuthnApiError):
    status_code = 409
    default_detail = "This security key is already added."
    default_code = "key_already_added"


class NoSecurityKey(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_detail = "Your account has no security key. Enter the code from your authenticator app."
    default_code = "no_security_key"


class _Ceremony(LoginRequiredMixin):
    """Signed in only (a key is never the first step of signing in), and POST only: a GET
    answers 405 before any rule is looked at."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return super().dispatch(request, *args, **kwargs)


class _Registration(_Ceremony):
    def check_can_register(self):
        if not security_keys.may_add_key(self.request):
            raise PasswordAgainRequired()


class RegistrationBeginView(_Registration, webauthn_views.BeginCredentialRegistrationView):
    pass


class RegistrationCompleteView(_Registration, webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        state = self.get_state()  # taken out of the session first: never used twice
        try:
            with rewrite_exceptions(logger=webauthn_views._get_pywebauthn_logger()):
                key = security_keys.security_key_register(
                    request=self.request, helper=self.get_helper(), state=state, data=self.request.data
                )
        except security_keys.SecurityKeyError as error:
            raise PasswordAgainRequired(detail=str(error)) from None
        except IntegrityError:  # the same credential id again (this account's or another's)
            raise KeyAlreadyAdded() from None
        messages.success(self.request, f"{key.name} added")
        return JsonResponse({"id": key.pk})


class AuthenticationBeginView(_Ceremony, webauthn_views.BeginCredentialAuthenticationView):
    def check_can_authenticate(self):
        super().check_can_authenticate()
        if not security_keys.has_security_key(self.request.user):
            raise NoSecurityKey()


class AuthenticationCompleteView(_Ceremony, webauthn_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        # The package's helper has already refused a key of another account's.
        was_verified = is_verified(self.request.user)
        otp_login(self.request, device)
        self.request.session.cycle_key()
        if was_verified:  # a key-only account's step-up: its password was given a moment ago
            two_factor.step_up_by_key(self.request)


# --- Account pages --------------------------------------------------------------------------------


class SignInMethodsView(LoginRequiredMixin, View):
    template_name = "core/sign_in_methods.html"

    def get(self, request):
        return render(request, self.template_name, security_keys.sign_in_methods(user=request.user))


class SecurityKeyAddView(LoginRequiredMixin, View):
    """First factor: the key straight away. Otherwise: the step-up (the password again and a
    current or recovery code, as for replacing the authenticator app), then the key."""

    template_name = "core/security_key_add.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not security_keys.is_first_factor(user) and not is_verified(user):
            return redirect(f"{reverse('core:verify')}?next={reverse('core:sign_in_methods')}")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(step_up_form(request))

    def post(self, request):
        if security_keys.is_first_factor(request.user):
            return redirect("core:security_key_add")  # nothing to confirm: the key straight away
        form = step_up_form(request, request.POST)
        if step_up_from_form(request, form):
            return redirect("core:security_key_add")
        if form.is_valid():  # a key-only account's password is right: its key comes next
            return redirect("core:security_key_add")
        return self.render(form, status=400)

    def render(self, form, status=200):
        first = security_keys.is_first_factor(self.request.user)
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "error_forms": [form],
                "first_factor": first,
                "ready": security_keys.may_add_key(self.request),
                **step_up_context(self.request),
            },
            status=status,
        )


class SecurityKeyRemoveView(LoginRequiredMixin, View):
    template_name = "core/security_key_remove.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_verified(request.user):
            return redirect(f"{reverse('core:verify')}?next={reverse('core:sign_in_methods')}")
        return super().dispatch(request, *args, **kwargs)

    def key(self, pk: int) -> WebAuthnCredential:
        key = security_keys.security_keys_for(user=self.request.user).filter(pk=pk).first()
        if key is None:
            raise Http404
        return key

    def get(self, request, pk: int):
        return self.render(self.key(pk), step_up_form(request))

    def post(self, request, pk: int):
        key = self.key(pk)
        form = step_up_form(request, request.POST)
        # A key-only account confirmed it is them with its password and a key a moment ago.
        confirmed = not two_factor.has_codes(request.user) and two_factor.replacement_allowed(request)
        if confirmed or step_up_from_form(request, form):
            try:
                name = security_keys.security_key_remove(request=request, key_id=key.pk)
            except security_keys.SecurityKeyError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{name} removed")
                return redirect("core:sign_in_methods")
        elif form.is_valid():  # a key-only account's password is right: its key comes next
            return redirect("core:security_key_remove", pk=key.pk)
        return self.render(key, form, status=400)

    def render(self, key, form, status=200):
        key_only = not two_factor.has_codes(self.request.user)
        return render(
            self.request,
            self.template_name,
            {
                "key": key,
                "form": form,
                "error_forms": [form],
                "confirmed": key_only and two_factor.replacement_allowed(self.request),
                **step_up_context(self.request),
            },
            status=status,
        )
