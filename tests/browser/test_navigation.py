"""The service navigation fits one line at 1280 px for every role (issue 14): a second line
pushes the page down and reads as two menus. The account (sign-in methods, sign out) sits in
the header's account menu, not the navigation."""

from __future__ import annotations

import pytest

from core.roles import Role
from tests.browser.pages import add_authenticator, sign_in

_NAVIGATION = """() => {
  const items = [...document.querySelectorAll('.govuk-service-navigation__item')];
  return {
    labels: items.map(item => item.textContent.trim()),
    lines: new Set(items.map(item => Math.round(item.getBoundingClientRect().top))).size,
  };
}"""


@pytest.mark.parametrize("role", list(Role))
def test_the_service_navigation_is_one_line_at_1280_px(page, role_user, role):
    user = role_user(role, username=f"nav-{role.value}")
    add_authenticator(user)
    sign_in(page, user.username)
    page.wait_for_load_state()
    navigation = page.evaluate(_NAVIGATION)
    assert navigation["labels"], f"{role}: no service navigation on {page.url}"
    assert navigation["lines"] == 1, f"{role}: the navigation wraps onto {navigation['lines']} lines"
    assert not {"Sign out", "Two-factor and security keys"} & set(navigation["labels"])
