"""One way to save with history (core.records): the acting user, a reason that fits the column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.history import MAX_LENGTH
from core.records import delete_with_history, save_with_history
from core.roles import Role
from referrals.models import AbuseForm
from tests.factories import ReferralFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ("core", "referrals", "reviews", "guidance", "scrutiny")
#: Writes history attributes itself: the bulk import writer, which stamps thousands of rows at
#: once with its own reason cut to the column (referrals.imports.write.change_reason).
BULK_WRITERS = {"referrals/imports/write.py"}


@pytest.mark.django_db
def test_a_save_records_the_user_and_a_reason_cut_to_the_column(role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="records-user")
    referral = ReferralFactory()
    version = referral.version
    save_with_history(referral, user=user, reason="A reason " * 40, new_version=True)
    referral.refresh_from_db()
    assert referral.version == version + 1
    record = referral.history.latest()
    assert record.history_user == user
    assert len(record.history_change_reason) == MAX_LENGTH
    assert record.history_change_reason.startswith("A reason A reason")


@pytest.mark.django_db
def test_a_row_and_its_many_to_many_values_are_one_history_record(role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="records-m2m")
    referral = ReferralFactory()
    forms = list(AbuseForm.objects.order_by("pk")[:2])
    assert forms  # reference data from the migrations
    before = referral.history.count()
    save_with_history(referral, user=user, reason="Forms changed", m2m={"forms_of_abuse": forms})
    assert referral.history.count() == before + 1
    assert referral.history.latest().history_change_reason == "Forms changed"


@pytest.mark.django_db
def test_a_delete_keeps_who_and_why(role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="records-delete")
    referral = ReferralFactory()
    pk = referral.pk
    delete_with_history(referral, user=user, reason="Removed " * 30)
    record = type(referral).history.filter(id=pk).latest()
    assert record.history_type == "-"
    assert record.history_user == user
    assert len(record.history_change_reason) <= MAX_LENGTH


def test_no_product_module_sets_history_attributes_itself():
    """Every save with history goes through core.records, so no reason can outgrow the column
    (PostgreSQL refuses it: a server error) and no service forgets the acting user."""
    pattern = re.compile(r"\._(change_reason|history_user)\s*=")
    offenders = []
    for app in PRODUCT_APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative == "core/records.py" or relative in BULK_WRITERS:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "Use core.records.save_with_history:\n" + "\n".join(offenders)
