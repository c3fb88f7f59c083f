"""The exempt-data registry (core.exempt): one boundary, one mask, registered by each app."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from core import exempt, logs

ROOT = Path(settings.BASE_DIR)
PRODUCT = ("config", "core", "referrals", "reviews", "guidance", "scrutiny", "modelguidance", "records")


def test_every_registered_field_exists_on_its_model():
    """A renamed or removed field cannot quietly fall out of the boundary."""
    assert exempt.registered_models()
    for model in exempt.registered_models():
        for name in exempt.exempt_fields(model):
            model._meta.get_field(name)  # raises FieldDoesNotExist


def test_register_refuses_a_field_the_model_does_not_have():
    from django.core.exceptions import FieldDoesNotExist

    from referrals.models import CaseNote

    with pytest.raises(FieldDoesNotExist):
        exempt.register(CaseNote, ["txet"])


def test_each_app_registers_its_own_fields_review_evidence_and_appendices_included():
    names = set(exempt.exempt_field_names())
    assert {
        "Child.first_name",
        "Child.date_of_birth",
        "ReferralDetail.narrative",
        "CaseNote.text",
        "CaseAssessment.good_practice",
        "CaseAssessment.areas_for_improvement",
        "CaseAssessment.lead_comments",
        "CriterionRating.evidence",
        "Appendix.text",
        "ExemptAppendixSnapshot.body_html",
    } <= names
    owners = {model._meta.app_label for model in exempt.registered_models()}
    # core declares nothing of its own; records: who asked for a subject access pack, and what
    # is withheld from them; contexts: a place's matching key and what was done about an alert.
    assert owners == {"referrals", "reviews", "scrutiny", "records", "contexts"}


def test_an_appendix_is_exempt_only_while_it_is_marked_exempt():
    Appendix = apps.get_model("scrutiny", "Appendix")
    assert exempt.is_exempt(Appendix, "text")  # the model: it may be
    assert not exempt.is_exempt(Appendix(exempt=False, text="Public"), "text")
    row = Appendix(exempt=True, text="Names", file_size=10)
    assert exempt.is_exempt(row, "text")
    exempt.mask(row)
    assert (row.text, row.file_size) == (exempt.MASK, None)


def test_one_mask_value_the_log_filter_uses_it():
    assert logs.MASK is exempt.MASK


def test_no_module_declares_a_mask_or_a_boundary_of_its_own():
    """One MASK, one boundary: no other module assigns a ``MASK`` or an exempt-field table."""
    offenders = []
    paths = [p for app in PRODUCT for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    for path in paths:
        if path == ROOT / "core" / "exempt.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in {"MASK", "EXEMPT_FIELDS"}:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_core_imports_no_app_to_know_the_boundary():
    text = (ROOT / "core" / "exempt.py").read_text() + (ROOT / "core" / "history.py").read_text()
    assert not re.search(r"^\s*(from|import) (referrals|reviews|scrutiny|guidance)\b", text, re.M)


def test_the_assessment_page_leaves_masking_to_its_selector():
    """Templates print what selectors give them: the assessment page has no visibility switch
    around exempt values (the referral's own page keeps its notices, over masked objects)."""
    template = (ROOT / "templates" / "reviews" / "assessment_form.html").read_text()
    assert "exempt_visible %}" not in template.replace("not page.exempt_visible %}", "")


def test_shown_fields_names_only_what_has_a_value_and_the_page_prints():
    from referrals.models import Child, ReferralDetail

    detail = ReferralDetail(referrer_name="R", narrative="N", referrer_contact="")
    child = Child(first_name="A", last_name="B", address="1 Street")
    shown = exempt.shown_fields(
        [detail, child],
        displayed={ReferralDetail: ["referrer_name", "referrer_contact"], Child: ["first_name", "last_name"]},
    )
    assert shown == ["Child.first_name", "Child.last_name", "ReferralDetail.referrer_name"]
    assert exempt.shown_fields([exempt.mask(detail)]) == []  # a masked row shows nothing
    with pytest.raises(ValueError, match="not registered exempt"):
        exempt.field_labels({Child: ["gender"]})
