"""History change reasons fit simple-history's varchar(100) column (PostgreSQL enforces it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory

from core import permissions
from core.history import MAX_LENGTH, change_reason
from core.roles import Role
from referrals import services
from referrals.models import ReferralUserGrant
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

LONG_REASON = "The child's social worker is off sick and the strategy meeting is this afternoon. " * 4


def test_a_long_reason_is_cut_to_the_column():
    assert len(change_reason(LONG_REASON)) == MAX_LENGTH
    assert change_reason("Short") == "Short"


def test_grants_and_break_glass_take_a_sentence_long_reason(role_user):
    manager = role_user(Role.MASH_MANAGER, username="long-reason-manager")
    reader = role_user(Role.MASH_PRACTITIONER, username="long-reason-reader")
    referral = ReferralFactory(status="closed")
    services.referral_grant(
        granted_by=manager,
        referral_id=referral.pk,
        user=reader,
        actions=[permissions.VIEW_EXEMPT],
        reason=LONG_REASON,
    )
    grant = ReferralUserGrant.objects.get(user=reader, content_object=referral)
    assert grant.reason == LONG_REASON.strip()  # the grant keeps the whole reason
    assert len(grant.history.latest().history_change_reason) <= MAX_LENGTH
    services.referral_revoke_grant(
        revoked_by=manager, referral_id=referral.pk, grant_id=grant.pk, holder_kind="user", reason=LONG_REASON
    )
    entry = services.referral_break_glass(
        request=RequestFactory().get("/"), user=manager, referral_id=referral.pk, reason=LONG_REASON
    )
    assert entry.reason == LONG_REASON.strip()


# --- The one history builder (core.history.history_entries) ------------------------------------


def _change_row(page: str, field_label: str) -> tuple[str, str]:
    import re

    match = re.search(
        rf'<th scope="row" class="govuk-table__header">{re.escape(field_label)}</th>'
        r'<td class="govuk-table__cell">(.*?)</td><td class="govuk-table__cell">(.*?)</td>',
        page,
    )
    assert match, field_label
    return match.group(1), match.group(2)


@pytest.fixture
def screened_referral(role_user):
    """A referral recorded and screened through the services (so its history has changes),
    and information governance, who may open any referral but holds no grant on this one."""
    from django.utils import timezone

    from referrals.models import RagLevel
    from tests.referrals.helpers import child_input, referral_input

    author = role_user(Role.MASH_PRACTITIONER, username="history-author")
    other = role_user(Role.INFORMATION_GOVERNANCE, username="history-ig")
    referral = services.referral_create(
        user=author,
        data=referral_input(incident_date=timezone.localdate() - dt.timedelta(days=1)),
        children=[child_input("victim"), child_input("alleged_perpetrator")],
    )
    data = referral_input(
        incident_date=timezone.localdate() - dt.timedelta(days=1), narrative="Second account: qzhistory"
    )
    services.referral_update(user=author, referral_id=referral.pk, expected_version=1, data=data)
    services.referral_start_screening(
        user=author, referral_id=referral.pk, expected_version=2, rag=RagLevel.objects.get(code="red")
    )
    assert not permissions.has_grant(other, referral, permissions.VIEW_EXEMPT)
    return referral, author, other


def test_the_history_page_masks_exempt_changes_for_those_who_may_not_see_them(client, screened_referral):
    from django.urls import reverse

    from core.exempt import MASK
    from tests.conftest import sign_in_verified

    referral, author, other = screened_referral
    url = reverse("referrals:history", args=[referral.pk])
    sign_in_verified(client, author)
    page = client.get(url).content.decode()
    assert "qzhistory" in _change_row(page, "Narrative")[1]
    sign_in_verified(client, other)
    page = client.get(url).content.decode()
    assert "qzhistory" not in page
    assert _change_row(page, "Narrative") == (MASK, MASK)


def test_a_newly_registered_field_is_masked_in_history_without_touching_the_history_code(
    client, screened_referral, monkeypatch
):
    """Register a field exempt (as an app's ready() would) and every history page masks it."""
    from django.urls import reverse

    from core import exempt
    from core.exempt import MASK
    from referrals.models import Referral
    from tests.conftest import sign_in_verified

    referral, author, other = screened_referral
    url = reverse("referrals:history", args=[referral.pk])
    label = str(Referral._meta.get_field("rag").verbose_name).capitalize()
    sign_in_verified(client, other)
    assert _change_row(client.get(url).content.decode(), label)[1] == "Red"  # not exempt today

    monkeypatch.setattr(exempt, "_REGISTRY", dict(exempt._REGISTRY))  # put back after the test
    exempt.register(Referral, ["rag"])
    assert _change_row(client.get(url).content.decode(), label) == (MASK, MASK)
    sign_in_verified(client, author)  # a grant holder still sees it, and the read names it
    assert _change_row(client.get(url).content.decode(), label)[1] == "Red"
    from core.models import AccessLogEntry

    logged = AccessLogEntry.objects.filter(channel=AccessLogEntry.Channel.HISTORY).latest("id")
    assert "Referral.rag" in logged.fields
    assert "ReferralDetail.narrative" in logged.fields
    assert "Child.first_name" not in logged.fields  # no child's name changed: none was shown


def test_one_history_diff_builder():
    """Only core.history compares history records, so every history page masks the same way."""
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    callers = [
        str(path.relative_to(root))
        for app in ("config", "core", "referrals", "reviews", "guidance", "scrutiny", "modelguidance")
        for path in (root / app).rglob("*.py")
        if "diff_against(" in path.read_text()
    ]
    assert callers == ["core/history.py"]


def test_every_model_with_history_makes_its_history_manager_class_once():
    """simple-history's own descriptor makes a new manager class each time ``.history`` is read
    (once for every history row written); core.history.HistoricalRecords makes it once. Every
    model with history declares it with that class, so none goes back to the slow one."""
    from django.apps import apps

    from core.history import HistoryManager

    with_history = [m for m in apps.get_models() if hasattr(m._meta, "simple_history_manager_attribute")]
    assert len(with_history) > 40
    slow = []
    for model in with_history:
        if not issubclass(type(model.history), HistoryManager):
            slow.append(model._meta.label)
            continue
        instance = model()
        assert type(model.history) is type(model.history) is type(instance.history), model._meta.label
    assert not slow, f"declare history with core.history.HistoricalRecords: {sorted(slow)}"
