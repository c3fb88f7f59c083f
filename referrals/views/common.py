"""What every referral page shares: the referral in the URL (or a 404), posted numbers, conflicts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View

from core import permissions
from core.access_log import record_access
from core.forms import apply_service_errors, posted_int_of
from core.models import AccessLogEntry
from referrals import selectors, services
from referrals.forms import (
    ReasonForm,
)
from referrals.models import Referral, ReferralDecision


def posted_int(request, name: str, default: int) -> int:
    """A number the page itself posts (a hidden version, a count of children): anything that is
    not a number counts as ``default``, so a tampered field is refused like a stale one."""
    return posted_int_of(request.POST, name, default)


def nothing_to_do(request, referral, heading: str, message: str):
    return render(
        request,
        "referrals/decision_nothing.html",
        {"referral": referral, "heading": heading, "message": message},
    )


class ReferralMixin(LoginRequiredMixin):
    """Loads the referral named in the URL, or answers 404 if the user may not open it.

    ``needs_change``: the page changes the referral, so the user needs a live change grant.
    ``needs_exempt``: the page shows identities, so the user also needs a view grant and a
    session verified with two-factor sign-in (without one they are sent to sign in with it).
    """

    needs_change = False
    needs_exempt = False
    #: The page opens on a referral disposed of under the retention schedule (its page, history
    #: and access log say so). Every other page adds, changes, grants or reopens: 404 there.
    open_when_disposed = False

    @cached_property
    def referral(self) -> Referral:
        try:
            return selectors.referral_get(user=self.request.user, pk=self.kwargs["pk"])
        except Referral.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        referral = self.referral
        if referral.disposed_at is not None and not self.open_when_disposed:
            raise Http404("Page not found")
        if self.needs_change and not permissions.has_grant(request.user, referral, permissions.CHANGE):
            raise Http404("Page not found")
        if self.needs_exempt:
            if not permissions.has_grant(request.user, referral, permissions.VIEW_EXEMPT):
                raise Http404("Page not found")
            if not permissions.is_verified(request.user):
                messages.info(request, "Sign in with your second factor to see or change identities")
                return redirect(f"{reverse('core:verify')}?next={request.path}")
        return super().dispatch(request, *args, **kwargs)

    def log_exempt_read(self, fields: list[str], channel: str = AccessLogEntry.Channel.PAGE) -> None:
        """One access-log row naming the exempt fields this page showed (``Model.field``)."""
        record_access(
            request=self.request,
            user=self.request.user,
            record=self.referral,
            label=self.referral.reference,
            fields=fields,
            channel=channel,
        )

    def conflict(self, error: services.ReferralConflict):
        return render(
            self.request,
            "referrals/referral_conflict.html",
            {
                "referral": error.referral,
                "changes": selectors.referral_changes_since(
                    user=self.request.user, referral=error.referral, version=error.expected_version
                ),
            },
            status=409,
        )


#: The decision's reasons the authorisation page shows.
AUTHORISE_SHOWS = {ReferralDecision: ["rationale", "guidance_departure_reason", "amendment_reason"]}
#: What the amend page puts in its form from the decision in force.
AMEND_SHOWS = {ReferralDecision: ["rationale", "advice_notes", "guidance_departure_reason"]}


class TransitionView(ReferralMixin, View):
    """A form whose valid submission calls one service on the referral."""

    template_name = ""
    form_class = ReasonForm
    success_message = ""
    needs_change = True

    def form_kwargs(self) -> dict:
        return {}

    def get(self, request, pk):
        return self.render(self.form_class(initial={"version": self.referral.version}, **self.form_kwargs()))

    def post(self, request, pk):
        form = self.form_class(request.POST, **self.form_kwargs())
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            self.act(form)
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, self.success_message)
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def act(self, form) -> None:
        raise NotImplementedError

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "referral": self.referral, "error_forms": [form]},
            status=status,
        )
