"""The address a request came from: one rule for sign-in throttling, the access log and
security events.

Behind a TLS proxy every request arrives from the proxy, so ``REMOTE_ADDR`` alone would put all
users behind one address (django-axes would lock out everyone at once; the access log would
name the proxy). Each proxy appends the address it received the request from to
``X-Forwarded-For``, so with ``TRUSTED_PROXY_COUNT`` = N proxies in front of the app, the
client is the N-th entry from the right: entries further left were written by the client
and prove nothing. With 0 (the default) the header is ignored and ``REMOTE_ADDR`` is used, so
a client cannot choose its own address. A header with fewer entries than trusted proxies, or
an entry that is not an IP address, falls back to ``REMOTE_ADDR``.

django-axes calls ``client_ip`` (``AXES_CLIENT_IP_CALLABLE``); ``core.access_log`` and
``core.security_events`` call it too.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote
