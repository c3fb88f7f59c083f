import csv
import datetime as dt
import io
import math
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core import health, passwords, security_keys, two_factor
from core import services as core_services
from core.forms import (
    AccessLogSearchForm,
    BreakGlassReviewForm,
    CodeForm,
    NewCodeForm,
    OwnPasswordChangeForm,
    PasswordAgainForm,
    PasswordSetForm,
    SecurityEventSearchForm,
    StepUpForm,
    TwoFactorResetForm,
)
from core.models import AccessLogEntry
from core.permissions import RoleRequiredMixin, can_open_referrals, is_verified
from core.roles import Role, has_role
from core.security_events import security_events_search
from core.selectors import access_log_search, break_glass_entry_for_review, break_glass_queue
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


def _wrong_code(form, check, field: str, message: str) -> None:
    """A refused code: not right, or not even tried while the wrong ones before are waited out."""
    if check.throttled_until is None:
        form.add_error(field, message)
        return
    seconds = max(1, math.ceil((check.throttled_until - timezone.now()).total_seconds()))
    if seconds < 60:  # the first few wrong codes: a wait of seconds, said as such
        form.add_error(
            field,
            f"That code was not right. Wait {seconds} second{'s' if seconds > 1 else ''}, then try again.",
        )
        return
    minutes = math.ceil(seconds / 60)
    form.add_error(
        field,
        f"You have entered too many wrong codes. Wait {minutes} minute{'s' if minutes > 1 else ''}, "
        "then try again.",
    )


class VerifyView(LoginRequiredMixin, View):
    template_name = "core/two_factor_verify.html"

    def get(self, request):
        if not two_factor.has_second_factor(request.user):
            return redirect("core:two_factor_setup")
        return self.render(CodeForm())

    def post(self, request):
        if not two_factor.has_second_factor(request.user):
            return redirect("core:two_factor_setup")
        form = CodeForm(request.POST)
        if form.is_valid():
            check = two_factor.verify(request, form.cleaned_data["code"])
            if check:
                return HttpResponseRedirect(_safe_next(request, reverse("core:home")))
            _wrong_code(
                form,
                check,
                "code",
                "The code is not right, or has been used. Enter the code your app shows now.",
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


def step_up_form(request, data=None):
    """The step-up's form: the password and a code, or (an account with only security keys) the
    password, after which the page asks for a key (``two_factor.step_up_by_key``)."""
    if two_factor.has_codes(request.user):
        return StepUpForm(data)
    return PasswordAgainForm(data)


def step_up_context(request) -> dict:
    """What a step-up page needs to ask for the key once the password is right."""
    return {"use_key": not two_factor.has_codes(request.user) and two_factor.awaiting_key(request)}


def step_up_from_form(request, form) -> bool:
    """Check a bound StepUpForm with ``two_factor.step_up``: True when the password and the code
    were both right (the step-up now holds); otherwise the form carries the errors. Every change
    to an existing second factor (replacing the app, adding or removing a security key) uses it."""
    if not form.is_valid():
        return False
    if isinstance(form, PasswordAgainForm):
        if not two_factor.password_again(request, password=form.cleaned_data["password"]):
            form.add_error("password", "The password is not right. Enter your password.")
        return False  # the key finishes the step-up (the page now asks for it)
    password_right, check = two_factor.step_up(
        request, password=form.cleaned_data["password"], code=form.cleaned_data["current_code"]
    )
    if check:
        return True
    if not password_right:
        form.add_error("password", "The password is not right. Enter your password.")
    else:
        _wrong_code(
            form,
            check,
            "current_code",
            "The code is not right, or has been used. Enter the code your app shows now, or a recovery code.",
        )
    return False


def _recovery_codes_page(request, codes: list[str], *, heading: str):
    """Shown once, straight after the code that confirmed the authenticator; never stored."""
    response = render(
        request,
        "core/two_factor_recovery_codes.html",
        {"codes": codes, "heading": heading, "next": _safe_next(request, reverse("core:home"))},
    )
    add_never_cache_headers(response)
    return response


@method_decorator(never_cache, name="dispatch")
class TwoFactorSetupView(LoginRequiredMixin, View):
    """Setting up a first authenticator: only for an account that has no second factor at all.

    An account that has one is sent to enter its code (before verification) or to the page
    that replaces it (after): this page never makes or shows a key for it, and changes nothing.
    """

    template_name = "core/two_factor_setup.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not two_factor.can_enrol_first_factor(request.user):
            if is_verified(request.user):
                return redirect("core:two_factor_replace")
            return HttpResponseRedirect(
                f"{reverse('core:verify')}?{urlencode({'next': _safe_next(request, reverse('core:home'))})}"
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(CodeForm())

    def post(self, request):
        form = CodeForm(request.POST)
        device = two_factor.pending_device(request.user)
        if form.is_valid():
            try:
                codes = two_factor.enrol_first_factor(request, device, form.cleaned_data["code"])
            except two_factor.TwoFactorRefused:
                return redirect("core:verify")
            if codes is not None:
                return _recovery_codes_page(request, codes, heading="Two-factor sign-in is set up")
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
            },
            status=status,
        )


@method_decorator(never_cache, name="dispatch")
class TwoFactorReplaceView(LoginRequiredMixin, View):
    """Replacing an authenticator: first the password and a current or recovery code, then the
    new key and a code from it. Only a verified session gets here (and, if not, is sent to
    enter a code); the new key is shown only after the first step."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if not two_factor.has_second_factor(request.user):
                return redirect("core:two_factor_setup")
            if not is_verified(request.user):
                return redirect("core:verify")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        if two_factor.replacement_allowed(request):
            return self.render_new(NewCodeForm())
        return self.render_step_up(step_up_form(request))

    def post(self, request):
        if two_factor.replacement_allowed(request) and "code" in request.POST:
            return self.post_new(request)
        form = step_up_form(request, request.POST)
        if step_up_from_form(request, form):
            return redirect("core:two_factor_replace")
        if form.is_valid():  # the password is right: the key comes next
            return self.render_step_up(step_up_form(request))
        return self.render_step_up(form, status=400)

    def post_new(self, request):
        form = NewCodeForm(request.POST)
        device = two_factor.replacement_device(request)
        if form.is_valid():
            try:
                codes = two_factor.replace_second_factor(request, device, form.cleaned_data["code"])
            except two_factor.TwoFactorRefused:  # the 10 minutes ran out since the page was read
                return redirect("core:two_factor_replace")
            if codes is not None:
                return _recovery_codes_page(request, codes, heading="Your authenticator app is replaced")
            form.add_error("code", "The code is not right. Enter the code your new app shows now.")
        return self.render_new(form, status=400)

    def render_step_up(self, form, status=200):
        return render(
            self.request,
            "core/two_factor_replace_confirm.html",
            {"form": form, "error_forms": [form], **step_up_context(self.request)},
            status=status,
        )

    def render_new(self, form, status=200):
        device = two_factor.replacement_device(self.request)
        return render(
            self.request,
            "core/two_factor_replace_new.html",
            {
                "form": form,
                "error_forms": [form],
                "qr_svg": two_factor.qr_svg(device),
                "secret": two_factor.secret_for_manual_entry(device),
            },
            status=status,
        )


class TwoFactorResetView(RoleRequiredMixin, View):
    """Administrators: remove someone else's second factors so they set one up afresh."""

    roles = frozenset({Role.ADMINISTRATOR})
    template_name = "core/two_factor_reset.html"

    def get(self, request):
        return self.render(TwoFactorResetForm(actor=request.user))

    def post(self, request):
        form = TwoFactorResetForm(request.POST, actor=request.user)
        if form.is_valid():
            holder = form.cleaned_data["username"]
            how = dict(TwoFactorResetForm.HOW_CONFIRMED)[form.cleaned_data["how_confirmed"]]
            try:
                two_factor.reset_second_factor(
                    actor=request.user, user=holder, how_confirmed=how.lower(), request=request
                )
            except two_factor.TwoFactorRefused as refused:
                form.add_error("username", str(refused))
            else:
                messages.success(
                    request,
                    f"Two-factor sign-in is reset for {holder.get_username()}. They will set it up "
                    "again when they next sign in; they and information governance have been told.",
                )
                return redirect("core:two_factor_reset")
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(self.request, self.template_name, {"form": form, "error_forms": [form]}, status=status)


class SecurityEventsView(RoleRequiredMixin, View):
    """Information governance: search security events (second factors, roles, grants)."""

    roles = frozenset({Role.INFORMATION_GOVERNANCE})
    template_name = "core/security_events.html"
    search_form_class = SecurityEventSearchForm

    def get(self, request):
        form = self.search_form_class(request.GET or None)
        invalid = form.is_bound and not form.is_valid()
        criteria = {} if invalid or not form.is_bound else form.cleaned_data
        events = security_events_search(**{k: v for k, v in criteria.items() if v not in (None, "")})
        if invalid:
            events = events.none()
        page = Paginator(events, 50).get_page(request.GET.get("page"))
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
            status=400 if form.is_bound and form.errors else 200,
        )


class AccessLogView(RoleRequiredMixin, View):
    """Information governance: search the access log, and export what the search finds."""

    roles = frozenset({Role.INFORMATION_GOVERNANCE})
    template_name = "core/access_log.html"
    search_form_class = AccessLogSearchForm

    def get(self, request):
        form = self.search_form_class(request.GET or None)
        invalid = form.is_bound and not form.is_valid()
        criteria = {} if invalid or not form.is_bound else form.cleaned_data
        entries = access_log_search(**{k: v for k, v in criteria.items() if v not in (None, "")})
        if invalid:
            # A search that cannot be understood finds nothing, and is never exported unfiltered.
            entries = entries.none()
        elif request.GET.get("format") == "csv":
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
            status=400 if form.is_bound and form.errors else 200,
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


class BreakGlassReviewsView(RoleRequiredMixin, View):
    """Information governance: emergency accesses awaiting review, and what was found."""

    roles = frozenset({Role.INFORMATION_GOVERNANCE})

    def get(self, request):
        return render(request, "core/break_glass_reviews.html", {"queue": break_glass_queue()})


class BreakGlassReviewView(RoleRequiredMixin, View):
    """Information governance records whether one emergency access was justified."""

    roles = frozenset({Role.INFORMATION_GOVERNANCE})

    def entry(self):
        try:
            return break_glass_entry_for_review(entry_id=self.kwargs["entry_pk"])
        except AccessLogEntry.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, entry_pk):
        return self.render(self.entry(), BreakGlassReviewForm())

    def post(self, request, entry_pk):
        entry = self.entry()
        form = BreakGlassReviewForm(request.POST)
        if form.is_valid():
            try:
                core_services.break_glass_review_record(
                    reviewer=request.user,
                    entry_id=entry.pk,
                    justified=form.cleaned_data["justified"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                for field, messages_ in getattr(error, "message_dict", {None: error.messages}).items():
                    for message in messages_:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, f"Review of the emergency access to {entry.record_label} recorded")
                return redirect("core:break_glass_reviews")
        return self.render(entry, form, status=400)

    def render(self, entry, form, status=200):
        return render(
            self.request,
            "core/break_glass_review.html",
            {
                "entry": entry,
                "review": getattr(entry, "glass_review", None),
                "own": entry.user_id == self.request.user.pk,
                "form": form,
                "error_forms": [form],
            },
            status=status,
        )


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


# --- Passwords: set and changed by their holders only (core.passwords) -------------------------


@method_decorator(never_cache, name="dispatch")
class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The e-mailed link: the holder sets their password. It does not sign them in (the second
    factor still follows the password), and the link stops working once used."""

    template_name = "core/password_set.html"
    form_class = PasswordSetForm
    post_reset_login = False

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None  # deactivated: no link works

    def get_success_url(self):
        return reverse("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        passwords.password_set_by_holder(
            user=form.user, request=self.request, how="Set through the e-mailed link"
        )
        messages.success(self.request, "Your password is set. Sign in with it now.")
        return response

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "error_forms": [context["form"]] if context.get("form") else []}


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """The holder changes their own password, with the current one (a verified session: the
    middleware asks for the second factor first). Other sessions of theirs end."""

    template_name = "core/password_change.html"
    form_class = OwnPasswordChangeForm

    def get_success_url(self):
        return reverse("core:sign_in_methods")

    def form_valid(self, form):
        response = super().form_valid(form)
        passwords.password_set_by_holder(user=form.user, request=self.request, how="Changed by its holder")
        messages.success(self.request, "Your password is changed. We have e-mailed you to say so.")
        return response

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "error_forms": [context["form"]]}
