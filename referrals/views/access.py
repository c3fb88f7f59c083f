"""Who else may open a referral: grants, restrictions and emergency access."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from core import permissions
from core.forms import apply_service_errors
from core.templatetags.mash import when
from referrals import selectors, services
from referrals.forms import (
    BreakGlassForm,
    GrantForm,
    RevokeForm,
)
from referrals.permissions import ManagerRequiredMixin
from referrals.views.common import (
    ReferralMixin,
    TransitionView,
)


class GrantsView(ManagerRequiredMixin, ReferralMixin, View):
    """A MASH manager sees every grant on the referral, gives grants and removes them."""

    template_name = "referrals/referral_grants.html"

    def get(self, request, pk):
        return self.render(GrantForm(), RevokeForm(auto_id="revoke-%s"))

    def post(self, request, pk):
        if "revoke" in request.POST:
            return self.post_revoke(request)
        form = GrantForm(request.POST)
        if not form.is_valid():
            return self.render(form, RevokeForm(auto_id="revoke-%s"), status=400)
        try:
            services.referral_grant(
                granted_by=request.user,
                referral_id=self.referral.pk,
                user=form.cleaned_data["user"],
                actions=form.cleaned_data["actions"],
                reason=form.cleaned_data["reason"],
                expires_on=form.cleaned_data.get("expires_on"),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, RevokeForm(auto_id="revoke-%s"), status=400)
        messages.success(request, f"Grant given to {form.cleaned_data['user'].get_username()}")
        return HttpResponseRedirect(reverse("referrals:grants", args=[pk]))

    def post_revoke(self, request):
        # One form holds the table: each row's Remove button posts "user-12" or "group-3".
        data = request.POST.copy()
        holder_kind, _, grant_id = data.get("revoke", "").partition("-")
        if grant_id:
            data["holder_kind"], data["grant_id"] = holder_kind, grant_id
        form = RevokeForm(data, auto_id="revoke-%s")
        if not form.is_valid():
            return self.render(GrantForm(), form, status=400)
        try:
            services.referral_revoke_grant(
                revoked_by=request.user,
                referral_id=self.referral.pk,
                grant_id=form.cleaned_data["grant_id"],
                holder_kind=form.cleaned_data["holder_kind"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(GrantForm(), form, status=400)
        except (KeyError, LookupError, ValueError, ObjectDoesNotExist) as missing:
            # No such grant on this referral (another record's grant id, or none): not found.
            raise Http404("Grant not found") from missing
        messages.success(request, "Grant removed")
        return HttpResponseRedirect(reverse("referrals:grants", args=[self.referral.pk]))

    def render(self, form, revoke_form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "referral": self.referral,
                "grants": permissions.grants_on(self.referral),
                "grant_history": permissions.grant_history(self.referral),
                "form": form,
                "revoke_form": revoke_form,
                "error_forms": [form, revoke_form],
                "emergency_access_ends": selectors.emergency_access_ends(
                    user=self.request.user, referral=self.referral
                ),
            },
            status=status,
        )


class RestrictionView(ManagerRequiredMixin, TransitionView):
    """A MASH manager restricts a referral to named grants, or lifts the restriction (with a
    reason of at least 20 characters and three words; logged and e-mailed to IG)."""

    template_name = "referrals/referral_restriction.html"
    needs_change = False

    def form_kwargs(self):
        lifting = self.referral.is_restricted
        return {
            "reason_label": "Why is the restriction being lifted?"
            if lifting
            else "Why should only named people see this referral?",
            "required_message": "Enter why the restriction is being lifted"
            if lifting
            else "Enter why the referral is being restricted",
        }

    @property
    def success_message(self):
        return "Restriction lifted" if self.referral.is_restricted else "Referral restricted"

    def act(self, form):
        if self.referral.is_restricted:
            service = services.referral_lift_restriction
        else:
            service = services.referral_restrict
        service(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            request=self.request,
        )


class BreakGlassView(ManagerRequiredMixin, ReferralMixin, View):
    template_name = "referrals/referral_break_glass.html"

    def get(self, request, pk):
        return self.render(BreakGlassForm())

    def post(self, request, pk):
        form = BreakGlassForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            services.referral_break_glass(
                request=request,
                user=request.user,
                referral_id=self.referral.pk,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        ends = selectors.emergency_access_ends(user=request.user, referral=self.referral)
        messages.success(
            request, f"Emergency access given until {when(ends)}. Information governance has been told."
        )
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "referral": self.referral,
                "form": form,
                "error_forms": [form],
                "hours": settings.BREAK_GLASS_HOURS,
            },
            status=status,
        )
