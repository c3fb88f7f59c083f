"""The MASH manager's day: the dashboard and allocating a referral to a practitioner."""

from __future__ import annotations

from django.shortcuts import render
from django.views import View

from referrals import dashboard, selectors, services
from referrals.forms import AllocateForm
from referrals.permissions import ManagerRequiredMixin
from referrals.views.common import TransitionView


class DashboardView(ManagerRequiredMixin, View):
    """Due today and overdue by RAG, decided within a working day, work by practitioner."""

    template_name = "referrals/dashboard.html"

    def get(self, request):
        figures = dashboard.manager_dashboard(
            queryset=selectors.referrals_visible_to(user=request.user),
            practitioners=services.allocatable_practitioners(),
        )
        return render(
            request,
            self.template_name,
            {
                "dashboard": figures,
                "due_limit": dashboard.DUE_LIST_LIMIT,
                "panels": dashboard.dashboard_panels(user=request.user),
            },
        )


class AllocateView(ManagerRequiredMixin, TransitionView):
    """A MASH manager gives an open referral to a practitioner, who is notified."""

    template_name = "referrals/referral_allocate.html"
    form_class = AllocateForm
    needs_change = False

    def form_kwargs(self):
        return {"practitioners": list(services.allocatable_practitioners())}

    def get(self, request, pk):
        initial = {"version": self.referral.version, "practitioner": self.referral.allocated_to_id}
        return self.render(self.form_class(initial=initial, **self.form_kwargs()))

    @property
    def success_message(self):
        return f"Referral {self.referral.reference} allocated"

    def act(self, form):
        services.referral_allocate(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            practitioner_id=form.cleaned_data["practitioner"],
        )
