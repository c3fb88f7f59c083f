"""Importing historic referrals: check, preview, import all or nothing, again without change."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from devtools.synthetic import synthetic_rows, to_csv
from referrals import services, tasks
from referrals.imports import services as imports
from referrals.imports.format import ImportRefused, all_columns
from referrals.imports.write import change_reason
from referrals.models import (
    Child,
    ImportBatch,
    ReferenceSequence,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralDetail,
    ReferralGroupGrant,
    ReferralUserGrant,
    School,
)
from tests.conftest import sign_in_verified
from tests.factories import ChildFactory, ReferralFactory
from tests.support.imports import SAMPLE, SAMPLE_URNS, check, import_file, sample_rows, upload

pytestmark = pytest.mark.django_db

HISTORY_MODELS = [Referral, ReferralDetail, Child, ReferralChild, ReferralDecision]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def schools(db):
    return {
        urn: School.objects.create(
            urn=urn, name=f"Import School {urn} (demo)", phase="secondary", local_authority="X"
        )
        for urn in SAMPLE_URNS
    }


def state() -> dict:
    """Every row count an import could change, history and many-to-many history included."""
    counts = {}
    for model in HISTORY_MODELS:
        counts[model.__name__] = model.objects.count()
        counts[f"history of {model.__name__}"] = model.history.count()
    for model, name in ((Referral, "forms_of_abuse"), (ReferralDecision, "outcomes")):
        counts[f"{model.__name__}.{name}"] = getattr(model, name).through.objects.count()
        counts[f"history of {model.__name__}.{name}"] = getattr(
            model.history.model, name
        ).model.objects.count()
    counts["grants"] = ReferralUserGrant.objects.count() + ReferralGroupGrant.objects.count()
    counts["sequences"] = list(ReferenceSequence.objects.order_by("year").values_list("year", "last_number"))
    return counts


# --- The happy path ----------------------------------------------------------------------------


def test_the_sample_file_imports_as_closed_historic_referrals_without_grants(
    manager, schools, django_capture_on_commit_callbacks
):
    before = state()
    batch = check(manager, SAMPLE.read_bytes(), "sample_import.csv")
    assert batch.status == ImportBatch.Status.READY
    assert (batch.row_count, batch.new_count, batch.changed_count, batch.unchanged_count) == (6, 6, 0, 0)
    assert batch.errors == []
    assert state() == before, "checking a file writes no referral"
    stored = Path(batch.file.path)
    assert stored.exists()
    assert "sample" not in stored.name  # stored under a random name

    with django_capture_on_commit_callbacks(execute=True):
        batch = imports.referral_import_apply(user=manager, batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.APPLIED
    assert not batch.file
    assert not stored.exists(), "the stored file goes once it is imported"

    referrals = list(Referral.objects.order_by("received_at"))
    assert [r.external_id for r in referrals] == [row["source_id"] for row in sample_rows()]
    assert [r.reference for r in referrals] == [f"MASH-2015-{n:04d}" for n in range(1, 7)]
    assert all(r.status == Referral.Status.CLOSED for r in referrals)
    assert state()["grants"] == 0, "closed historic referrals hold no grants"

    first = referrals[0]
    zone = timezone.get_current_timezone()
    assert first.received_at == dt.datetime(2015, 1, 14, 9, 30, tzinfo=zone)
    assert first.closed_at == dt.datetime(2015, 1, 16, 11, 0, tzinfo=zone)
    assert first.created_by == manager
    assert sorted(first.forms_of_abuse.values_list("code", flat=True)) == ["sexual-assault"]
    decision = first.decisions.get()
    assert decision.decided_at == dt.datetime(2015, 1, 14, 15, 10, tzinfo=zone)
    assert decision.within_timescale
    assert sorted(decision.outcomes.values_list("code", flat=True)) == ["police", "strategy-s47"]
    assert decision.dsl_informed
    assert decision.police_informed
    assert not decision.parents_informed
    assert first.detail.narrative.startswith("SAMPLE (synthetic)")
    children = {link.label: link for link in first.children.select_related("child__school")}
    assert children["A"].role == "victim"
    assert children["A"].child.first_name == "Alex"
    assert children["A"].child.first_name_key == "alex"
    assert children["A"].child.school.urn == "990035"
    second = referrals[1]
    assert second.detail.narrative == (
        "SAMPLE (synthetic). Images were shared in a group chat.\nThe school found out from a parent."
    )
    assert second.detail.consent_not_sought_reason.startswith("SAMPLE")
    assert second.children.count() == 3
    assert second.children.get(label="C").child.send

    # The same child in two rows of the file is one person record.
    jordan = Child.objects.get(first_name="Jordan", last_name="Fictley")
    assert jordan.involvements.count() == 2

    # History: one record per row and model, by the manager, saying which file and row.
    record = first.history.get()
    assert record.history_user == manager
    assert record.history_change_reason == "Imported from sample_import.csv, row 2"
    assert [f.abuseform.code for f in record.forms_of_abuse.select_related("abuseform")] == ["sexual-assault"]
    assert decision.history.get().history_change_reason == "Imported from sample_import.csv, row 2"
    outcomes = decision.history.get().outcomes.select_related("outcome")
    assert {o.outcome.code for o in outcomes} == {"police", "strategy-s47"}
    assert referrals[5].detail.history.get().history_change_reason == "Imported from sample_import.csv, row 7"


def test_references_continue_the_sequence_and_skip_numbers_already_taken(manager, schools):
    ReferenceSequence.objects.create(year=2015, last_number=3)
    ReferralFactory(reference="MASH-2015-0005")  # made some other way, without the sequence
    import_file(manager, SAMPLE.read_bytes())
    references = set(Referral.objects.filter(external_id__isnull=False).values_list("reference", flat=True))
    assert references == {f"MASH-2015-{n:04d}" for n in (4, 6, 7, 8, 9, 10)}
    assert ReferenceSequence.objects.get(year=2015).last_number == 10
    # The service's own numbering carries on after them: a number is never handed out twice.
    assert services._next_reference(2015) == "MASH-2015-0011"


# --- Again, and updated ---------------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(manager, schools):
    import_file(manager, SAMPLE.read_bytes())
    before = state()
    batch = check(manager, SAMPLE.read_bytes())
    assert (batch.new_count, batch.changed_count, batch.unchanged_count) == (0, 0, 6)
    assert batch.status == ImportBatch.Status.NOTHING
    assert not batch.file, "a file with nothing to import is not kept"
    with pytest.raises(ValidationError, match="There is nothing to import"):
        imports.referral_import_apply(user=manager, batch_id=batch.pk)
    assert state() == before, "no new rows, no new history records, no references used"


def test_an_updated_file_updates_what_changed_with_the_file_and_row_in_the_history(manager, schools):
    import_file(manager, SAMPLE.read_bytes(), "export-2015.csv")
    rows = sample_rows()
    rows[1]["narrative"] = "SAMPLE (synthetic). Corrected account."
    rows[1]["forms_of_abuse"] = "sexting"
    rows[2]["outcomes"] = "early-help;advice"
    rows[3]["child2_role"] = "other"
    rows[3]["peer_on_peer"] = "no"
    second = Referral.objects.get(external_id=rows[1]["source_id"])
    untouched = Referral.objects.get(external_id=rows[0]["source_id"])
    untouched_history = untouched.history.count()

    batch = check(manager, to_csv(rows), "export-2015-v2.csv")
    assert (batch.new_count, batch.changed_count, batch.unchanged_count) == (0, 3, 3)
    changes = {row["row"]: row["fields"] for row in batch.rows}
    assert changes == {
        3: ["Forms of abuse", "What was reported"],
        4: ["Outcomes"],
        5: ["Peer-on-peer", "Child B"],
    }
    imports.referral_import_apply(user=manager, batch_id=batch.pk)

    second.refresh_from_db()
    assert second.detail.narrative == "SAMPLE (synthetic). Corrected account."
    assert list(second.forms_of_abuse.values_list("code", flat=True)) == ["sexting"]
    assert second.version == 2
    latest = second.history.latest("history_id")
    assert latest.history_change_reason == "Imported from export-2015-v2.csv, row 3"
    assert latest.history_user == manager
    assert [f.abuseform.code for f in latest.forms_of_abuse.all()] == ["sexting"]
    assert second.detail.history.latest("history_id").history_change_reason == (
        "Imported from export-2015-v2.csv, row 3"
    )
    third = Referral.objects.get(external_id=rows[2]["source_id"])
    decision = third.decisions.get()
    assert set(decision.outcomes.values_list("code", flat=True)) == {"early-help", "advice"}
    assert decision.history.count() == 2
    fourth = Referral.objects.get(external_id=rows[3]["source_id"])
    assert not fourth.is_peer_on_peer
    assert fourth.children.get(label="B").role == "other"
    assert fourth.children.get(label="B").history.latest("history_id").history_change_reason == (
        "Imported from export-2015-v2.csv, row 5"
    )
    assert untouched.history.count() == untouched_history

    # The history page reads the import as the change it was.
    entries = _history_entries(manager, second)
    changed = [e for e in entries if e.reason == "Imported from export-2015-v2.csv, row 3"]
    assert any(c.field == "Forms of abuse" for e in changed for c in e.changes)


def _history_entries(manager, referral):
    from referrals import selectors

    _, entries, _ = selectors.referral_history(user=manager, pk=referral.pk)
    return entries


def test_a_changed_child_is_relinked_and_the_old_link_leaves_history(manager, schools):
    import_file(manager, SAMPLE.read_bytes())
    rows = sample_rows()
    rows[0]["child2_first_name"] = "Jordana"  # a different person now
    referral = Referral.objects.get(external_id=rows[0]["source_id"])
    old_link = referral.children.get(label="B")
    import_file(manager, to_csv(rows), "fix.csv")
    link = referral.children.get(label="B")
    assert link.child.first_name == "Jordana"
    assert link.pk != old_link.pk
    removed = ReferralChild.history.filter(id=old_link.pk, history_type="-").get()
    assert removed.history_change_reason == "Imported from fix.csv, row 2"
    assert Child.objects.filter(first_name="Jordan", last_name="Fictley").exists()  # the person record stays


def test_a_referral_reopened_in_the_service_is_left_as_it_is(manager, schools):
    import_file(manager, SAMPLE.read_bytes())
    rows = sample_rows()
    referral = Referral.objects.get(external_id=rows[0]["source_id"])
    services.referral_reopen(
        user=manager, referral_id=referral.pk, expected_version=referral.version, reason="New information"
    )
    rows[0]["narrative"] = "SAMPLE (synthetic). Changed in the case system."
    batch = check(manager, to_csv(rows))
    assert (batch.changed_count, batch.kept_count, batch.unchanged_count) == (0, 1, 5)
    assert batch.rows == [
        {
            "row": 2,
            "source_id": rows[0]["source_id"],
            "action": "kept",
            "fields": [],
            "reference": referral.reference,
        }
    ]
    assert batch.status == ImportBatch.Status.NOTHING
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENING
    assert referral.detail.narrative.startswith("SAMPLE (synthetic). Child A told")


def test_import_refuses_when_the_service_changed_since_the_check(manager, schools):
    """The manager imports what the preview showed, or nothing: here it would now do nothing."""
    first = check(manager, SAMPLE.read_bytes())
    import_file(manager, SAMPLE.read_bytes())  # the same file, checked and imported meanwhile
    before = state()
    with pytest.raises(imports.ImportOutdated):
        imports.referral_import_apply(user=manager, batch_id=first.pk)
    assert state() == before
    first.refresh_from_db()
    assert (first.status, first.new_count, first.unchanged_count) == (ImportBatch.Status.NOTHING, 0, 6)
    assert not first.file


def test_two_imports_racing_for_the_same_referrals_leave_one_and_a_clear_message(
    manager, schools, monkeypatch
):
    """If a second import's check missed the first's rows (they were not committed yet), the
    database's unique case system id stops it whole, with a message and nothing half-written."""
    from referrals.imports import plan

    late = check(manager, SAMPLE.read_bytes())
    import_file(manager, SAMPLE.read_bytes())
    before = state()
    monkeypatch.setattr(plan, "_existing", lambda source_ids: {})  # as if not yet visible
    with pytest.raises(ValidationError) as refused:
        imports.referral_import_apply(user=manager, batch_id=late.pk)
    assert refused.value.messages == [
        "Another import changed some of these referrals at the same time. Nothing was imported. "
        "Upload the file again to check it"
    ]
    assert state() == before
    late.refresh_from_db()
    assert late.status == ImportBatch.Status.READY


# --- Children -----------------------------------------------------------------------------------


def test_children_are_matched_to_person_records_by_name_and_date_of_birth(manager, schools):
    existing = ChildFactory(first_name="ALEX", last_name="demoford ", date_of_birth=dt.date(2001, 3, 2))
    existing.save()  # keys are made on save
    same_name_other_birthday = ChildFactory(
        first_name="Casey", last_name="Sampleton", date_of_birth=dt.date(2000, 9, 22)
    )
    children_before = Child.objects.count()
    import_file(manager, SAMPLE.read_bytes())
    first = Referral.objects.get(external_id="CASE-2015-000101")
    assert first.children.get(label="A").child == existing
    existing.refresh_from_db()
    assert existing.first_name == "ALEX", "an existing person record is linked, never changed"
    second = Referral.objects.get(external_id="CASE-2015-000117")
    assert second.children.get(label="A").child != same_name_other_birthday
    # 12 children in the file: Alex is known, Jordan appears twice.
    assert Child.objects.count() == children_before + 10


# --- Bad files ------------------------------------------------------------------------------------


def _sample_with(change) -> bytes:
    rows = sample_rows()
    columns = all_columns()
    columns = change(rows, columns) or columns
    return to_csv(rows, columns=columns)


def _bad_date(rows, columns):
    rows[2]["incident_date"] = "31/02/2015"
    rows[3]["child1_date_of_birth"] = "2001-13-01"
    rows[4]["received_at"] = "23/03/2015"


def _unknown_codes(rows, columns):
    rows[0]["source"] = "carrier-pigeon"
    rows[1]["forms_of_abuse"] = "sexting;gossip"
    rows[2]["outcomes"] = "maybe"
    rows[3]["child1_school_urn"] = "123456"


def _duplicate_ids(rows, columns):
    rows[4]["source_id"] = rows[1]["source_id"]


def _missing_columns(rows, columns):
    return [c for c in columns if c not in ("narrative", "child1_date_of_birth")]


def _unknown_column(rows, columns):
    for row in rows:
        row["favourite_colour"] = "blue"
    return [*columns, "favourite_colour"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: "source_id,narrative\nX,Café crème".encode("latin-1"),
            ["The selected file is not in UTF-8. Save the file as CSV UTF-8 and upload it again"],
        ),
        (
            lambda: SAMPLE.read_text(encoding="utf-8").encode("utf-16"),
            ["The selected file is not in UTF-8. Save the file as CSV UTF-8 and upload it again"],
        ),
        (lambda: b"", ["The selected file is empty"]),
        (lambda: b"  \r\n\r\n", ["The selected file is empty"]),
        (
            lambda: SAMPLE.read_bytes().split(b"\r\n")[0] + b"\r\n",
            ["The selected file has no referrals in it, only the column headings"],
        ),
        (
            lambda: _sample_with(_missing_columns),
            ["The selected file is missing the columns narrative and child1_date_of_birth"],
        ),
        (
            lambda: _sample_with(_unknown_column),
            [
                "The selected file has a column the import does not use: favourite_colour. "
                "Use the column headings in the import format guide"
            ],
        ),
        (lambda: b"\x00\x01\x02junk" * 1000, ["The selected file must be a CSV file"]),
    ],
    ids=[
        "latin-1",
        "utf-16",
        "empty",
        "blank-lines",
        "headings-only",
        "missing-columns",
        "unknown-column",
        "binary",
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole_and_changes_nothing(manager, schools, make, expected):
    before = state()
    with pytest.raises(ImportRefused) as refused:
        check(manager, make())
    assert refused.value.messages == expected
    assert state() == before
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _bad_date,
            [
                (4, "incident_date", "Row 4: the date of the incident must be a real date, like 27/03/2019"),
                (
                    5,
                    "child1_date_of_birth",
                    "Row 5: child 1's date of birth must be a real date, like 27/03/2009",
                ),
                (
                    6,
                    "received_at",
                    "Row 6: the date and time the referral was received must be a real date and time, "
                    "like 27/03/2019 14:30",
                ),
            ],
        ),
        (
            _unknown_codes,
            [
                (
                    2,
                    "source",
                    "Row 2: the source must be one of the codes: anonymous, child, health, other-la, "
                    "parent-carer, police, school and voluntary",
                ),
                (
                    3,
                    "forms_of_abuse",
                    "Row 3: one of the forms of abuse is not a code from the import format guide. "
                    "Separate codes with a semicolon, like bullying;physical",
                ),
                (
                    4,
                    "outcomes",
                    "Row 4: one of the outcomes is not a code from the import format guide. "
                    "Separate codes with a semicolon, like nfa;advice",
                ),
                (
                    5,
                    "child1_school_urn",
                    "Row 5: child 1's school URN is not a school in this service. Leave it blank if the "
                    "school is not known, or ask an administrator to add the school",
                ),
            ],
        ),
        (
            _duplicate_ids,
            [
                (
                    6,
                    "source_id",
                    "Row 6: the source id is also in row 3. Each referral must be in the file once",
                )
            ],
        ),
    ],
    ids=["bad-dates", "unknown-codes", "duplicate-ids"],
)
def test_every_problem_in_every_row_is_listed_and_nothing_is_imported(manager, schools, change, expected):
    before = state()
    batch = check(manager, _sample_with(change))
    assert batch.status == ImportBatch.Status.INVALID
    assert [(e["row"], e["column"], e["message"]) for e in batch.errors] == expected
    assert batch.error_count == len(expected)
    assert not batch.file, "a file with errors is not kept"
    assert state() == before
    with pytest.raises(ValidationError):
        imports.referral_import_apply(user=manager, batch_id=batch.pk)
    assert state() == before


def test_row_rules_are_the_services_rules(manager, schools):
    rows = sample_rows()
    rows[0]["incident_date"] = "15/01/2015"  # after receipt
    rows[1]["consent_not_sought_reason"] = ""
    rows[2]["child1_date_of_birth"] = "01/01/1990"  # 25 at the incident
    rows[3]["child2_first_name"] = rows[3]["child1_first_name"]
    rows[3]["child2_last_name"] = rows[3]["child1_last_name"].upper()
    rows[3]["child2_date_of_birth"] = rows[3]["child1_date_of_birth"]
    rows[4]["child2_role"] = "victim"  # peer-on-peer without an alleged perpetrator
    rows[5]["decided_at"] = "2015-04-19T10:00"  # before receipt
    batch = check(manager, to_csv(rows))
    assert [e["message"] for e in batch.errors] == [
        "Row 2: the date of the incident must be on or before the date the referral was received",
        "Row 3: enter the reason consent was not sought",
        "Row 4: child 1's date of birth must make the child 18 or younger on the date of the incident "
        "(25 or younger with special educational needs or a disability)",
        "Row 5: child 2 has the same name and date of birth as child 1. Each child must be in the row once",
        "Row 6: a peer-on-peer referral needs at least one victim and one alleged perpetrator",
        "Row 7: the date and time of the decision must be after the referral was received",
    ]


def test_a_row_with_the_wrong_number_of_cells_is_named(manager, schools):
    data = SAMPLE.read_bytes() + b"CASE-X,too,few\r\n"
    batch = check(manager, data)
    assert batch.errors[-1]["message"] == (
        "Row 8: has 3 cells but there are 52 column headings. "
        "Check for a stray comma or a missing quotation mark"
    )


def test_errors_never_quote_a_cell(manager, schools):
    rows = sample_rows()
    rows[0]["child1_first_name"] = "Qzcnry" * 30  # too long
    rows[0]["child1_school_urn"] = "QZCNRY"
    rows[0]["source"] = "qzcnry"
    rows[0]["forms_of_abuse"] = "qzcnry"
    rows[0]["child1_gender"] = "qzcnry"
    rows[0]["received_at"] = "qzcnry"
    batch = check(manager, to_csv(rows))
    assert batch.error_count == 6
    assert "qzcnry" not in str(batch.errors).lower()


def test_junk_that_is_valid_text_is_refused_quickly_with_a_short_message(manager):
    import random

    rnd = random.Random(1)
    lines = ["".join(rnd.choice("abcdefghij,; ") for _ in range(200)) for _ in range(10_000)]
    junk = "\n".join(lines).encode()
    started = time.perf_counter()
    with pytest.raises(ImportRefused) as refused:
        check(manager, junk)
    assert time.perf_counter() - started < 2
    assert all(len(message) < 1000 for message in refused.value.messages)
    with pytest.raises(ImportRefused) as refused:
        check(manager, ",".join(f"x{n}" for n in range(80)).encode())
    assert "x13 and 66 more. Use the column headings" in refused.value.messages[-1]

    with pytest.raises(ImportRefused) as refused:
        check(manager, b"a," * 1_000_000)
    assert refused.value.messages == [
        "The selected file has 1,000,001 columns; the import format has 52. "
        "Check it is the case system's export, saved as CSV UTF-8"
    ]


def test_a_file_with_too_many_rows_is_refused(manager, schools, settings):
    settings.REFERRAL_IMPORT_MAX_ROWS = 5
    with pytest.raises(ImportRefused) as refused:
        check(manager, SAMPLE.read_bytes())
    assert refused.value.messages == [
        "The selected file has more than 5 referrals. Split it into smaller files"
    ]


def test_a_wrong_file_counts_every_problem_but_keeps_the_first_thousand(manager, schools):
    rows = synthetic_rows(400, urns=SAMPLE_URNS)
    for row in rows:
        row["received_at"] = row["incident_date"] = row["decided_at"] = "someday"
        row["source"] = row["location"] = "nowhere"
    batch = check(manager, to_csv(rows))
    assert batch.error_count == 400 * 5
    assert len(batch.errors) == imports.MAX_PROBLEMS_SHOWN
    assert batch.errors[0]["row"] == 2


class CountingFile(io.RawIOBase):
    """A file of junk that counts what is read from it (and has no size to go by)."""

    def __init__(self, size: int, name: str = "junk.csv"):
        self.remaining = size
        self.name = name
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, n=-1):
        n = self.remaining if n is None or n < 0 else min(n, self.remaining)
        self.remaining -= n
        self.read_bytes += n
        return b"\xde\xad\xbe\xef" * (n // 4) + b"\xde" * (n % 4)


def test_a_50_mb_file_is_refused_by_its_size_without_being_read(manager, settings):
    limit = settings.REFERRAL_IMPORT_MAX_BYTES
    junk = CountingFile(50 * 1024 * 1024)
    junk.size = 50 * 1024 * 1024
    with pytest.raises(ImportRefused) as refused:
        imports.referral_import_preview(user=manager, upload=junk)
    assert refused.value.messages == ["The selected file must be smaller than 20 MB"]
    assert junk.read_bytes == 0
    # Without a size to go by, reading stops as soon as it passes the limit.
    unsized = CountingFile(50 * 1024 * 1024)
    with pytest.raises(ImportRefused):
        imports.referral_import_preview(user=manager, upload=unsized)
    assert unsized.read_bytes <= limit + imports.READ_CHUNK
    assert not ImportBatch.objects.exists()


def test_a_50_mb_upload_is_refused_quickly_and_nothing_is_kept(client, manager, settings, tmp_path):
    sign_in_verified(client, manager)
    junk = SimpleUploadedFile("export.csv", os.urandom(50 * 1024 * 1024), content_type="text/csv")
    started = time.perf_counter()
    response = client.post(reverse("referrals:import"), {"file": junk})
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert "The selected file must be smaller than 20 MB" in response.content.decode()
    assert elapsed < 5, elapsed
    assert not ImportBatch.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(media.rglob("*.csv"))


def test_an_upload_past_the_limit_stops_being_stored_at_the_limit(client, manager, settings):
    """Within the declared-length allowance, the upload handler is what stops the body."""
    settings.REFERRAL_IMPORT_MAX_BYTES = 1024 * 1024
    sign_in_verified(client, manager)
    junk = SimpleUploadedFile("export.csv", b"a" * (1024 * 1024 + 32 * 1024), content_type="text/csv")
    response = client.post(reverse("referrals:import"), {"file": junk})
    assert response.status_code == 400
    assert "The selected file must be smaller than 1 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


# --- Pages ----------------------------------------------------------------------------------------


def test_a_manager_uploads_checks_and_imports_through_the_pages(client, manager, schools):
    """Upload, preview, import; then the same file again has nothing to import."""
    sign_in_verified(client, manager)
    tray = client.get(reverse("referrals:tray"))
    assert reverse("referrals:import") in tray.content.decode()
    page = client.get(reverse("referrals:import"))
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()
    assert 'enctype="multipart/form-data"' in page.content.decode()

    response = client.post(
        reverse("referrals:import"), {"file": upload(SAMPLE.read_bytes(), "sample_import.csv")}
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("referrals:import_preview", args=[batch.pk])
    preview = client.get(response["Location"]).content.decode()
    assert "Import 6 referrals" in preview
    for row in sample_rows():  # the preview shows no identity from the file
        for column in ("child1_first_name", "child1_last_name", "referrer_name", "narrative"):
            assert row[column] not in preview

    response = client.post(reverse("referrals:import_preview", args=[batch.pk]), {"action": "import"})
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    assert "6 referrals imported" in done
    assert "File imported" in done
    assert Referral.objects.filter(external_id__isnull=False).count() == 6

    response = client.post(
        reverse("referrals:import"), {"file": upload(SAMPLE.read_bytes(), "sample_import.csv")}
    )
    again = client.get(response["Location"]).content.decode()
    assert "Nothing to import" in again
    assert 'value="import"' not in again

    # An imported referral is closed: the MASH team reads it for history checks (no grant is
    # written, nothing may change it), and each read is logged.
    from core.models import AccessLogEntry

    referral = Referral.objects.get(external_id="CASE-2015-000101")
    detail = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Demoford" in detail
    assert AccessLogEntry.objects.filter(user=manager, record_id=referral.pk).exists()
    assert client.get(reverse("referrals:edit", args=[referral.pk])).status_code == 404


def test_the_preview_lists_every_row_problem(client, manager, schools):
    sign_in_verified(client, manager)
    batch = check(manager, _sample_with(_bad_date))
    page = client.get(reverse("referrals:import_preview", args=[batch.pk])).content.decode()
    assert "There is a problem" in page
    assert "The file has 3 problems. Nothing has been imported" in page
    assert "Row 4: the date of the incident must be a real date, like 27/03/2019" in page
    assert 'value="import"' not in page


def test_a_refused_file_is_shown_on_the_upload_page(client, manager, schools):
    sign_in_verified(client, manager)
    response = client.post(reverse("referrals:import"), {"file": upload("a,b\n1,2".encode("utf-16"))})
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Save the file as CSV UTF-8 and upload it again" in body
    response = client.post(reverse("referrals:import"), {"file": upload(b"x", "notes.txt")})
    assert "The selected file must be a CSV" in response.content.decode()
    response = client.post(reverse("referrals:import"), {})
    assert "Select a CSV file" in response.content.decode()


def test_a_checked_file_can_be_discarded(client, manager, schools, django_capture_on_commit_callbacks):
    sign_in_verified(client, manager)
    batch = check(manager, SAMPLE.read_bytes())
    stored = Path(batch.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:import_preview", args=[batch.pk]), {"action": "discard"})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DISCARDED
    assert not stored.exists()
    assert not Referral.objects.exists()


def test_checked_files_nobody_imported_are_deleted_after_a_day(
    manager, schools, django_capture_on_commit_callbacks
):
    batch = check(manager, SAMPLE.read_bytes())
    stored = Path(batch.file.path)
    assert imports.referral_imports_discard_stale() == 0
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.discard_stale_imports() == 1
    assert not stored.exists()


def test_the_sample_file_downloads(client, manager):
    sign_in_verified(client, manager)
    response = client.get(reverse("referrals:import_sample"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SAMPLE.read_bytes()


# --- Who may import -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r != Role.MASH_MANAGER])
def test_only_mash_managers_may_import(client, role_user, manager, schools, role):
    batch = check(manager, SAMPLE.read_bytes())
    sign_in_verified(client, role_user(role))
    for url in (
        reverse("referrals:import"),
        reverse("referrals:import_sample"),
        reverse("referrals:import_preview", args=[batch.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("referrals:import"), {"file": upload(SAMPLE.read_bytes())}).status_code == 404
    response = client.post(reverse("referrals:import_preview", args=[batch.pk]), {"action": "import"})
    assert response.status_code == 404
    assert not Referral.objects.exists()
    with pytest.raises(PermissionDenied):
        imports.referral_import_preview(user=role_user(role), upload=upload(SAMPLE.read_bytes()))


def test_a_batch_belongs_to_the_manager_who_uploaded_it(client, role_user, manager, schools):
    batch = check(manager, SAMPLE.read_bytes())
    other = role_user(Role.MASH_MANAGER, username="manager2")
    sign_in_verified(client, other)
    assert client.get(reverse("referrals:import_preview", args=[batch.pk])).status_code == 404
    assert (
        client.post(reverse("referrals:import_preview", args=[batch.pk]), {"action": "import"}).status_code
        == 404
    )
    assert not Referral.objects.exists()


def test_signed_out_users_are_sent_to_sign_in(client):
    response = client.post(reverse("referrals:import"), {"file": upload(b"x")})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_upload_checks_the_csrf_token(manager, schools):
    client = sign_in_verified(Client(enforce_csrf_checks=True), manager)
    response = client.post(reverse("referrals:import"), {"file": upload(SAMPLE.read_bytes())})
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


# --- History reasons fit their column -------------------------------------------------------------


def test_a_long_file_name_is_shortened_in_the_change_reason():
    reason = change_reason("x" * 300 + ".csv", 12345)
    assert len(reason) <= 100
    assert reason.startswith("Imported from xxx")
    assert reason.endswith("..., row 12345")


@pytest.mark.postgres
def test_a_generated_file_imports_on_postgresql_and_again_without_change(manager, schools):
    """The bulk path on PostgreSQL: returned ids, column limits, many-to-many history."""
    rows = synthetic_rows(300, urns=SAMPLE_URNS)
    name = "a-very-long-export-file-name-from-the-case-management-system-2012-to-2016-final-v2.csv"
    import_file(manager, to_csv(rows), name)
    assert Referral.objects.filter(external_id__startswith="SYN-").count() == 300
    assert ReferralDecision.outcomes.through.objects.count() >= 300
    before = state()
    batch = check(manager, to_csv(rows), name)
    assert (batch.new_count, batch.changed_count, batch.unchanged_count) == (0, 0, 300)
    assert state() == before
    # Changed rows go through the update path (executemany, history, many-to-many history).
    for row in rows[:50]:
        row["outcomes"] = "advice"
        row["narrative"] += " Corrected."
    batch = import_file(manager, to_csv(rows), name)
    assert batch.changed_count == 50
    referral = Referral.objects.get(external_id=rows[0]["source_id"])
    assert list(referral.decisions.get().outcomes.values_list("code", flat=True)) == ["advice"]
    assert referral.detail.narrative.endswith("Corrected.")
    record = referral.decisions.get().history.latest("history_id")
    assert [o.outcome.code for o in record.outcomes.all()] == ["advice"]
    assert record.history_change_reason.endswith(", row 2")


def test_bulk_writes_refuse_a_field_they_would_write_without_conversion():
    from django.core.exceptions import ImproperlyConfigured

    from referrals.imports import bulk

    assert bulk._columns(Referral)  # every field plain
    with pytest.raises(ImproperlyConfigured, match="errors, rows"):
        bulk._columns(ImportBatch)  # JSON fields need converting
