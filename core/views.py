from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from core.permissions import can_open_referrals


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"

    def get(self, request, *args, **kwargs):
        if can_open_referrals(request.user):
            return redirect("referrals:tray")
        return super().get(request, *args, **kwargs)


class AccessibilityView(TemplateView):
    template_name = "core/accessibility.html"


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context from the failed request: nothing of the case can reach this page.
    return render(request, "500.html", status=500)
