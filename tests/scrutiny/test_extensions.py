"""Scrutiny takes the model guidance's appendix through its registry (scrutiny.extensions), which
the modelguidance app fills in ``ready()``: scrutiny imports nothing above it
(docs/adr/0019-layers.md), and works, with an empty appendix, when nothing is registered."""

from __future__ import annotations

import pytest

from core.roles import Role
from modelguidance import appendix as guidance_appendix
from scrutiny import extensions, packs
from scrutiny.forms import AppendixForm
from scrutiny.models import Appendix, ReportVersion
from tests.guidance.helpers import approved, draft, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(role_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return role_user(Role.REPORT_OFFICER, username="officer")


def test_the_model_guidance_app_registers_its_appendix():
    source = extensions.appendix_source(Appendix.Kind.MODEL_GUIDANCE)
    assert source is not None
    assert source.context is guidance_appendix.appendix_context
    assert source.choices is guidance_appendix.appendix_choices
    # ... and keeps what an appendix names and what a published version carried, in its tables.
    assert source.chosen is guidance_appendix.appendix_chosen
    assert source.choose is guidance_appendix.appendix_choose
    assert source.carried is guidance_appendix.report_version_carried
    assert source.carry is guidance_appendix.report_version_carry


def test_a_report_may_carry_any_version_but_a_draft(officer):
    carried = approved(officer, title="Approved version")
    shown = published(officer, title="Published version")
    draft(officer, title="Draft version")
    choices = list(AppendixForm().fields["guidance_version"].queryset)
    assert set(choices) == {carried, shown}


def test_a_second_source_for_the_same_kind_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        extensions.register_appendix_source(
            Appendix.Kind.MODEL_GUIDANCE, context=lambda version: {}, choices=lambda: None
        )
    # Registering the same functions again (a second ready()) is harmless.
    guidance_appendix.register()


def test_without_a_source_scrutiny_draws_an_empty_appendix(officer, monkeypatch):
    published(officer, title="Published version")
    monkeypatch.setattr(extensions, "_sources", {})
    assert packs.guidance_context(None) == {"guidance_version": None}
    assert list(AppendixForm().fields["guidance_version"].queryset) == []
    # Nothing is named, carried or recorded without the app that keeps it.
    appendix = Appendix(pk=1, kind=Appendix.Kind.MODEL_GUIDANCE)
    assert extensions.chosen([appendix]) == {}
    assert extensions.subject(appendix) is None
    assert extensions.carried([ReportVersion(pk=1)]) == {}
