"""Request-wide guards: the request log line, the session's absolute limit, two-factor sign-in."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from core import logs, two_factor
from core.permissions import is_verified

request_log = logging.getLogger("mash.request")

#: What a load balancer or tracing proxy may pass as the request id; anything else is replaced.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SIGNED_IN_AT = "mash_signed_in_at"


class RequestLogMiddleware:
    """Give each request an id (``X-Request-ID``) and log one line when it ends.

    The line holds the method, the path without its query string, the status, the duration
    and the user's id - never a name, never what was typed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        tokens = (logs.request_id_var.set(request_id), logs.user_id_var.set("-"))
        scope = logs.start_scope()
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if getattr(user, "is_authenticated", False):
                logs.user_id_var.set(str(user.pk))
            response["X-Request-ID"] = request_id
            request_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            logs.end_scope(scope)
            logs.user_id_var.reset(tokens[1])
            logs.request_id_var.reset(tokens[0])


class SessionLifetimeMiddleware:
    """Sign out a session 12 hours (SESSION_ABSOLUTE_SECONDS) after it signed in, active or not.

    The idle limit is the session cookie's age, renewed on every request; this one is not
    renewed. The sign-in time is stored when the user signs in (core.apps) or, for a session
    that has none, the first time this middleware sees it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if signed_in_at is None:
                request.session[SIGNED_IN_AT] = now
            elif now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "You have been signed out after 12 hours. Sign in again.")
        return self.get_response(request)


#: Pages a signed-in user needs before the second factor (and the health check).
TWO_FACTOR_EXEMPT = frozenset(
    {
        "login",
        "logout",
        "core:verify",
        "core:two_factor_setup",
        "core:accessibility",
        "healthz",
        # The e-mailed link to set a password: it changes no second factor, and sending a
        # signed-in session elsewhere would carry its token into a query string.
        "core:password_set",
        # Signing in with a security key instead of the code (core.security_key_views).
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
    }
)
#: Adding a security key as the account's FIRST factor: open before verification only to an
#: account with no confirmed factor. An account that has one reaches them verified, or not at all.
FIRST_FACTOR_ONLY = frozenset(
    {
        "core:security_key_add",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
    }
)


class TwoFactorRequiredMiddleware:
    """Anyone who can hold a per-record grant opens no other page before a verified session.

    Those with an authenticator are sent to enter its code; those without, to set one up. The
    page they asked for comes back as ``next``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or is_verified(user) or not two_factor.must_verify(user):
            return None
        match = request.resolver_match
        if match is None or match.view_name in TWO_FACTOR_EXEMPT:
            return None
        has_factor = two_factor.has_second_factor(user)
        if match.view_name in FIRST_FACTOR_ONLY and not has_factor:
            return None
        target = "core:verify" if has_factor else "core:two_factor_setup"
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(f"{reverse(target)}?{query}" if query else reverse(target))
