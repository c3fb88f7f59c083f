"""``{% url %}`` remembers a name without arguments and otherwise renders as Django's tag."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch

from core.templatetags import remembered_urls


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.fixture(autouse=True)
def _forget(monkeypatch):
    monkeypatch.setattr(remembered_urls, "_reversed", {})


def test_every_template_gets_the_remembering_tag_without_loading_it():
    assert isinstance(Template("{% url 'core:home' %}").nodelist[0], remembered_urls.RememberedURLNode)
    plain = Engine()  # Django's own tag, to compare with
    for source in (
        "{% url 'core:home' %}",
        "{% url 'referrals:detail' 7 %}",
        "{% url 'referrals:detail' pk=7 %}",
        "{% url 'core:accessibility' as where %}[{{ where }}]",
        "{% url 'no:such' as where %}[{{ where }}]",
        "{% url name %}",
    ):
        ours = render(source, name="core:home")
        assert ours == plain.from_string(source).render(Context({"name": "core:home"})), source
        assert ours == render(source, name="core:home"), f"{source}: the same the second time"


def test_a_name_without_arguments_is_reversed_once(monkeypatch):
    calls = []
    real = remembered_urls.reverse
    monkeypatch.setattr(remembered_urls, "reverse", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = render("{% url 'referrals:tray' %}{% url 'referrals:tray' %}")
    assert first == render("{% url 'referrals:tray' %}") * 2
    assert calls == [("referrals:tray",)]


def test_an_unknown_name_fails_as_with_django_s_tag():
    with pytest.raises(NoReverseMatch):
        render("{% url 'no:such' %}")
    with pytest.raises(NoReverseMatch):
        render("{% url 'no:such' %}")  # and again: a failure is not remembered


def test_each_urlconf_and_script_prefix_has_its_own_entries():
    from django.urls import set_script_prefix

    assert render("{% url 'core:accessibility' %}").startswith("/")
    try:
        set_script_prefix("/mash/")
        assert render("{% url 'core:accessibility' %}").startswith("/mash/")
    finally:
        set_script_prefix("/")
    with override_settings(ROOT_URLCONF="tests.support.no_urls"), pytest.raises(NoReverseMatch):
        render("{% url 'core:accessibility' %}")


def test_the_current_application_is_part_of_what_is_remembered():
    request = RequestFactory().get("/")
    request.current_app = "admin"
    context = Context({"request": request})
    context.request = request
    assert Template("{% url 'admin:index' %}").render(context) == "/admin/"
    assert len(remembered_urls._reversed) == 1
    assert next(iter(remembered_urls._reversed))[1] == "admin"
    request.current_app = None  # set, though None: as Django's tag, not the namespace
    context = Context({"request": request})
    context.request = request
    request.resolver_match = type("Match", (), {"namespace": "elsewhere"})()
    Template("{% url 'admin:index' %}").render(context)
    assert {key[1] for key in remembered_urls._reversed} == {"admin", None}


def test_what_is_remembered_is_bounded(monkeypatch):
    monkeypatch.setattr(remembered_urls, "REMEMBERED", 2)
    for name in ("core:home", "core:accessibility", "referrals:tray"):
        render(f"{{% url '{name}' %}}")
    assert len(remembered_urls._reversed) <= 2
