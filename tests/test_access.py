"""Every URL in the URLconf, walked as every role (and signed out).

New URL patterns are picked up automatically: a page nobody thought about cannot escape.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.roles import MASH_ROLES, Role
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

# Patterns served by Django itself or the admin, which has its own staff check.
SKIP_PREFIXES = ("admin:",)
PUBLIC = {"login", "core:accessibility", "logout"}


def named_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def app_urls(referral_pk: int) -> dict[str, str]:
    urls = {}
    for name, pattern in named_patterns():
        if name.startswith(SKIP_PREFIXES):
            continue
        kwargs = dict.fromkeys(pattern.pattern.regex.groupindex, referral_pk)
        urls[name] = reverse(name, kwargs=kwargs)
    return urls


def test_every_pattern_is_fillable():
    referral = ReferralFactory()
    urls = app_urls(referral.pk)
    assert "referrals:detail" in urls
    assert "referrals:history" in urls
    assert all("<" not in url for url in urls.values())


@pytest.mark.parametrize("role", list(Role))
def test_every_url_as_every_role(client, role_user, role):
    referral = ReferralFactory()
    user = role_user(role)
    client.force_login(user)
    for name, url in app_urls(referral.pk).items():
        if name == "logout":
            continue
        response = client.get(url)
        if name in PUBLIC or name == "core:home":
            assert response.status_code in (200, 302), (name, response.status_code)
        elif role in MASH_ROLES:
            # Every page renders for MASH roles; the services refuse an illegal move on submit.
            assert response.status_code == 200, (name, response.status_code)
        else:
            # A record (or a page) the user may not open answers 404: no hint that it exists.
            assert response.status_code == 404, (name, response.status_code)


def test_signed_out_users_are_sent_to_sign_in(client):
    referral = ReferralFactory()
    for name, url in app_urls(referral.pk).items():
        if name in PUBLIC:
            continue
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_a_missing_referral_is_404_for_mash_roles(practitioner_client):
    assert practitioner_client.get(reverse("referrals:detail", args=[999999])).status_code == 404


def test_admin_holds_reference_data_only(admin_client):
    from django.contrib import admin

    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {
        "referrals.Referral",
        "referrals.ReferralDetail",
        "referrals.Child",
        "referrals.ReferralChild",
        "referrals.ReferralDecision",
        "referrals.CaseNote",
    }
    assert admin_client.get("/admin/referrals/school/").status_code == 200


def test_post_without_csrf_token_is_refused(practitioner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(practitioner)
    response = client.post(reverse("referrals:create"), {"save": "1"})
    assert response.status_code == 403
