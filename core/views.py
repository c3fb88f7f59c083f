import csv
import datetime as dt
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core import health, security_keys, two_factor
from core.forms import AccessLogSearchForm, CodeForm
from core.permissions import RoleRequiredMixin, can_open_referrals
from core.roles import Role, has_role
from core.selectors import access_log_search
from core.spreadsheets import safe_row


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"

    def get(self, request, *args, **kwargs):
        if can_open_referrals(request.user):
            return redirect("referrals:tray")
        if has_role(request.user, Role.REVIEWER, Role.LEAD_REVIEWER, Role.REPORT_OFFICER):
            return redirect("reviews:list")
        return super().get(request, *args, **kwargs)


class AccessibilityView(TemplateView):
    template_name = "core/accessibility.html"


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class SignInView(auth_views.LoginView):
    """Password first; anyone with an authenticator then enters a code."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        super().form_valid(form)
        next_url = _safe_next(self.request, reverse("core:home"))
        query = urlencode({"next": next_url})
        if two_factor.has_second_factor(self.request.user):
            return HttpResponseRedirect(f"{reverse('core:verify')}?{query}")
        if two_factor.must_verify(self.request.user):
            messages.info(self.request, "Set up two-factor sign-in before you continue")
            return HttpResponseRedirect(f"{reverse('core:two_factor_setup')}?{query}")
        return HttpResponseRedirect(next_url)


class VerifyView(LoginRequiredMixin, View):
    template_name = "core/two_factor_verify.html"

    def get(self, request):
        if not two_factor.has_second_factor(request.user):
            return redirect("core:two_factor_setup")
        return self.render(CodeForm())

    def post(self, request):
        form = CodeForm(request.POST)
        if form.is_valid() and two_factor.verify(request, form.cleaned_data["code"]):
            return HttpResponseRedirect(_safe_next(request, reverse("core:home")))
        if form.is_valid():
            form.add_error(
                "code", "The code is not right, or has been used. Enter the code your app shows now."
            )
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "error_forms": [form],
                "next": _safe_next(self.request, ""),
                "has_security_key": security_keys.has_security_key(self.request.user),
            },
            status=status,
        )


class TwoFactorSetupView(LoginRequiredMixin, View):
    template_name = "core/two_factor_setup.html"

    def get(self, request):
        return self.render(CodeForm())

    def post(self, request):
        form = CodeForm(request.POST)
        device = two_factor.pending_device(request.user)
        if form.is_valid():
            codes = two_factor.confirm_device(request, device, form.cleaned_data["code"])
            if codes is not None:
                return render(
                    request,
                    "core/two_factor_recovery_codes.html",
                    {"codes": codes, "next": _safe_next(request, reverse("core:home"))},
                )
            form.add_error("code", "The code is not right. Enter the code your app shows now.")
        return self.render(form, status=400)

    def render(self, form, status=200):
        device = two_factor.pending_device(self.request.user)
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "error_forms": [form],
                "qr_svg": two_factor.qr_svg(device),
                "secret": two_factor.secret_for_manual_entry(device),
                "replacing": two_factor.has_second_factor(self.request.user),
            },
            status=status,
        )


class AccessLogView(RoleRequiredMixin, View):
    """Information governance: search the access log, and export what the search finds."""

    roles = frozenset({Role.INFORMATION_GOVERNANCE})
    template_name = "core/access_log.html"

    def get(self, request):
        form = AccessLogSearchForm(request.GET or None)
        criteria = form.cleaned_data if form.is_bound and form.is_valid() else {}
        entries = access_log_search(**{k: v for k, v in criteria.items() if v not in (None, "")})
        if request.GET.get("format") == "csv":
            return self.csv(entries)
        page = Paginator(entries, 50).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "error_forms": [form] if form.is_bound else [],
                "page": page,
                "query": query.urlencode(),
            },
        )

    @staticmethod
    def csv(entries):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "When (UTC)",
                "Username",
                "Record",
                "Channel",
                "Fields",
                "Break-glass",
                "Reason",
                "IP address",
                "User agent",
                "Path",
            ]
        )
        for entry in entries[:50_000]:
            # The reason, the user agent and the path came from people and browsers: a cell
            # that a spreadsheet would run as a formula is written as text.
            writer.writerow(
                safe_row(
                    [
                        entry.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                        entry.user.get_username(),
                        entry.record_label,
                        entry.get_channel_display(),
                        "; ".join(entry.fields),
                        "Yes" if entry.break_glass else "No",
                        entry.reason,
                        entry.ip_address or "",
                        entry.user_agent,
                        entry.path,
                    ]
                )
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
        response["Cache-Control"] = "no-store"
        return response


@never_cache
def healthz(request):
    """For the load balancer and monitoring: 200 when all is well, 503 with what is not.

    No sign-in, and nothing but one word a check: no host names, versions, or error text.
    """
    healthy, checks = health.health()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


# Error pages. None repeats anything from the request (path, query, form, headers), so no
# exempt value typed or shown can reach them. 400 and 500 render without the request at all:
# the request may be what is wrong (a bad Host header), and nothing of the case should load.


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def bad_request(request, exception=None):
    # A request refused outright (Django's SuspiciousOperation family). One case: the session
    # could not be saved because the database went away after the view had run, so the
    # page cannot promise that nothing was saved. Rendered without the request, like 500.
    return HttpResponse(loader.get_template("400.html").render({}), status=400)


def server_error(request):
    # Rendered without the request: nothing of the case (nor a database query) can reach it.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
