"""Every URL pattern in three states of a session: signed out, password only, verified.

Before the second factor only ``ALLOWED_BEFORE_VERIFICATION`` opens; every other pattern (the
admin's included, and any pattern added later, with no classification needed) sends a GET and
a POST to the code page. Nothing on the allow-list can change the second factors of an account
that already has one, whatever is posted to it. Patterns are read from the resolver, as in
tests/test_access.py; arguments are filled with values of the right shape (the middleware
answers before any view looks them up).
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.middleware import FIRST_FACTOR_ONLY, TWO_FACTOR_EXEMPT
from core.roles import Role
from tests.conftest import sign_in_verified
from tests.support.access import ANONYMOUS, PUBLIC

pytestmark = pytest.mark.django_db

#: The explicit, short allow-list of a password-only session (core.middleware.TWO_FACTOR_EXEMPT).
#: The two security-key endpoints only answer a sign-in ceremony: they add no key (adding one is
#: ``FIRST_FACTOR_ONLY``, open before verification only to an account with no factor at all).
ALLOWED_BEFORE_VERIFICATION = frozenset(
    {
        "login",
        "logout",
        "core:verify",
        "core:two_factor_setup",
        "core:accessibility",
        "healthz",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        # The e-mailed link to set a password: for the account its token names (none here), it
        # changes no second factor; open so a signed-in session never carries the token on.
        "core:password_set",
    }
)

FILLERS = (1, "core", "x", str(uuid.uuid4()))


def every_pattern(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from every_pattern(pattern, ns)
        elif isinstance(pattern, URLPattern):
            assert pattern.name or namespace == "admin:", f"name the URL pattern {pattern.pattern}"
            if pattern.name:
                yield f"{namespace}{pattern.name}", pattern


def fill(name: str, pattern: URLPattern) -> str:
    regex = pattern.pattern.regex
    keys = list(regex.groupindex)
    for value in FILLERS:
        try:
            if keys or not regex.groups:
                return reverse(name, kwargs=dict.fromkeys(keys, value))
            return reverse(name, args=[value] * regex.groups)  # unnamed groups (simple-history)
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot fill the arguments of {name}: add a filler of their shape")


def all_urls() -> dict[str, str]:
    return {name: fill(name, pattern) for name, pattern in every_pattern()}


def code_of(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def second_factors(user) -> tuple:
    return (
        sorted(TOTPDevice.objects.filter(user=user).values_list("pk", "key", "confirmed")),
        sorted(StaticDevice.objects.filter(user=user).values_list("pk", "confirmed")),
        sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)),
    )


def test_the_allow_list_is_the_middlewares_and_short():
    assert frozenset(TWO_FACTOR_EXEMPT) == ALLOWED_BEFORE_VERIFICATION
    assert set(all_urls()) >= ALLOWED_BEFORE_VERIFICATION


#: Open signed out: the public pages, those schools open, and the admin's own sign-in form (which
#: signs in with the password only: the session it makes is as unverified as any other).
#: The admin's sign-out, signed out, only sends to the admin's index (which sends to sign in).
SIGNED_OUT = PUBLIC | ANONYMOUS | {"admin:login", "admin:logout"}


def test_signed_out_every_page_but_the_public_ones_sends_to_sign_in(client):
    for name, url in all_urls().items():
        if name in SIGNED_OUT:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, method.__name__, response.status_code)
            location = response["Location"]
            assert location.startswith((reverse("login"), reverse("admin:login"))), (name, location)


@pytest.mark.parametrize("has_authenticator", [True, False], ids=["with-authenticator", "without"])
def test_password_only_every_page_off_the_allow_list_sends_to_the_second_factor(
    client, role_user, has_authenticator
):
    user = role_user(Role.MASH_MANAGER, username="half", is_staff=True)
    if has_authenticator:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    target = reverse("core:verify" if has_authenticator else "core:two_factor_setup")
    client.force_login(user)
    # An account with no factor at all may set up a security key as its first one.
    first_factor = frozenset() if has_authenticator else FIRST_FACTOR_ONLY
    for name, url in all_urls().items():
        if name in ALLOWED_BEFORE_VERIFICATION | first_factor:
            continue
        got = client.get(url)
        assert got.status_code == 302, (name, got.status_code)
        assert got["Location"].split("?")[0] == target, (name, got["Location"])
        posted = client.post(url, {"code": "123456", "password": "a-long-test-password"})
        assert posted.status_code == 302, (name, posted.status_code)
        assert posted["Location"] == target, (name, posted["Location"])


def test_password_only_nothing_on_the_allow_list_changes_an_existing_second_factor(client, role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="owner")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes")
    static.token_set.create(token="recover1")
    # A key the attacker somehow made: its code is what a takeover would post.
    rogue = TOTPDevice.objects.create(user=user, name="rogue", confirmed=False)
    before = second_factors(user)
    urls = all_urls()
    for name in sorted(ALLOWED_BEFORE_VERIFICATION - {"logout"}):
        for data in (
            {},
            {"code": code_of(rogue)},
            {"code": "recover1x"},
            {"current_code": code_of(rogue), "password": "a-long-test-password", "username": "owner"},
            {"username": user.username, "how_confirmed": "in person"},
        ):
            client.force_login(user)
            client.get(urls[name])
            client.post(urls[name], data)
            assert second_factors(user) == before, (name, data)  # the rogue key still unconfirmed
    # Signing out changes nothing either.
    client.force_login(user)
    client.post(urls["logout"])
    assert second_factors(user) == before
    assert (device.pk, device.key, True) in second_factors(user)[0]


def test_verified_no_page_sends_back_to_the_second_factor(client, role_user):
    user = role_user(Role.INFORMATION_GOVERNANCE, username="verified", is_staff=True)
    sign_in_verified(client, user)
    gates = (reverse("core:verify"), reverse("core:two_factor_setup"), reverse("login"))
    for name, url in all_urls().items():
        if name in ALLOWED_BEFORE_VERIFICATION or name.startswith("admin:"):
            continue
        response = client.get(url)
        if response.status_code in (301, 302):
            assert not response["Location"].startswith(gates), (name, response["Location"])
