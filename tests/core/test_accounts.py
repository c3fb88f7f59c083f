import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sign_in_and_out(client):
    UserFactory(username="pat", password="a-long-test-password")
    response = client.post(reverse("login"), {"username": "pat", "password": "a-long-test-password"})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("core:home")).status_code == 302


def test_wrong_password_gets_govuk_error(client):
    UserFactory(username="pat", password="a-long-test-password")
    response = client.post(reverse("login"), {"username": "pat", "password": "wrong"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Error: Sign in" in body


def test_repeated_failures_lock_the_account(client):
    UserFactory(username="pat", password="a-long-test-password")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "pat", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "pat", "password": "a-long-test-password"})
    assert response.status_code == 429
    assert "Your account is locked" in response.content.decode()


def test_sessions_expire_after_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_idle_session_is_signed_out(client):
    import time_machine

    user = UserFactory(username="pat", password="a-long-test-password")
    with time_machine.travel("2026-01-05 09:00 +0000", tick=False) as traveller:
        client.force_login(user)
        assert client.get(reverse("core:home")).status_code == 200
        traveller.shift(29 * 60)
        assert client.get(reverse("core:home")).status_code == 200  # activity renews the clock
        traveller.shift(31 * 60)
        assert client.get(reverse("core:home")).status_code == 302


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError):
        validate_password("short-pw1")
    validate_password("a-much-longer-passphrase")
