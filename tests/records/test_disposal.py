"""Disposal leaves nothing behind: a canary in every exempt field and in history, disposed of,
then looked for in every text, JSON and date column of every table and in every stored file.
A referral under a legal hold survives; a child who appears in a kept referral stays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import exempt, retention
from core.roles import Role
from records import services
from records.models import DisposalBatch, DisposalCandidate, LegalHold, Tombstone
from referrals import services as referral_services
from referrals.models import Child, ImportBatch, Referral, ReferralChild, ReferralDetail
from tests.referrals.helpers import child_input, referral_input
from tests.support.canary import CANARY, DOB, canary_assessment

pytestmark = pytest.mark.django_db

HELD = "zqholdy"  # the held referral's own canary: it must survive
HELD_DOB = dt.date(2011, 3, 3)
SCHEDULE = [
    {"record_type": "referral", "trigger": "last_activity", "years": 1, "source": "Test schedule"},
]


@pytest.fixture
def schedule(settings, tmp_path):
    settings.RETENTION_SCHEDULE = SCHEDULE
    settings.DISPOSAL_REGISTER_PATH = str(tmp_path / "register" / "disposals.jsonl")
    return settings


@pytest.fixture
def governance(role_user):
    return role_user(Role.INFORMATION_GOVERNANCE, username="ig-decider"), role_user(
        Role.INFORMATION_GOVERNANCE, username="ig-approver"
    )


def _held_referral(role_user):
    creator = role_user(Role.MASH_PRACTITIONER, username="held-creator")
    return referral_services.referral_create(
        user=creator,
        data=referral_input(referrer_name="Zqholdy Referrer", narrative="Zqholdy narrative"),
        children=[
            child_input("victim", first_name="ZqholdyA", last_name="ZqholdyLast", date_of_birth=HELD_DOB),
            child_input("alleged_perpetrator", first_name="ZqholdyB", last_name="ZqholdyOther"),
        ],
    )


def _stored_files(canary_referral):
    """An exempt pack and a public pack of the referral (rendered as the worker renders them), a
    stored export naming it, and an import file still holding its row."""
    from core.documents import get_kind
    from core.documents import services as document_services
    from core.models import ExportJob
    from tests.documents_kind import KIND

    entry = get_kind(KIND)
    for variant in ExportJob.Variant.values:
        job = ExportJob.objects.create(
            kind=KIND,
            object_id=canary_referral.pk,
            variant=variant,
            source_digest=entry.digest(canary_referral),
            title=entry.title(canary_referral),
            requested_by=canary_referral.created_by,
        )
        assert document_services.export_job_run(job_id=job.pk).status == ExportJob.Status.DONE
    name = default_storage.save("packs/stored-export.pdf", ContentFile(b"%PDF-1.7 QzcnryFirstA QzcnryLastA"))
    ExportJob.objects.create(
        kind="cabinet_report_version",
        object_id=999,
        variant=ExportJob.Variant.EXEMPT,
        source_digest="1" * 64,
        title="A pack that holds the referral",
        status=ExportJob.Status.DONE,
        file=name,
        exempt_records=[["referrals.referral", canary_referral.pk, canary_referral.reference]],
        requested_by=canary_referral.created_by,
        finished_at=timezone.now(),
    )
    csv = default_storage.save(
        "referral-imports/stored.csv", ContentFile(b"source_id,first_name\nX1,QzcnryFirstA QzcnryLastA\n")
    )
    ImportBatch.objects.create(
        uploaded_by=canary_referral.created_by,
        filename="upload.csv",
        file=csv,
        sha256="0" * 64,
        size=10,
        status=ImportBatch.Status.READY,
    )


def _text_columns():
    """(table, column, "date" or "text") of every column that could hold the canary."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN "
                "('text', 'character varying', 'jsonb', 'json', 'date')"
            )
            return [(t, c, "date" if kind == "date" else "text") for t, c, kind in cursor.fetchall()]
    # SQLite (make test on a laptop): its declared types, from the table descriptions.
    columns = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                kind = column.type_code.lower()
                if kind == "date":
                    columns.append((table, column.name, "date"))
                elif any(word in kind for word in ("char", "text", "json", "clob")):
                    columns.append((table, column.name, "text"))
    return columns


def database_hits(needle: str, date: dt.date) -> list[tuple[str, str]]:
    """Every (table, column) of the whole database holding ``needle`` (any case) or ``date``."""
    hits = []
    with connection.cursor() as cursor:
        for table, column, kind in _text_columns():
            if kind == "date":
                cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" = %s', [date])  # noqa: S608
            else:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE lower(CAST("{column}" AS text)) LIKE %s',  # noqa: S608
                    [f"%{needle.lower()}%"],
                )
            if cursor.fetchone()[0]:
                hits.append((table, column))
    return hits


def file_hits(root: Path, needle: str) -> list[str]:
    from tests.core.pdf_helpers import pdf_text

    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        if data.startswith(b"%PDF") and b"%%EOF" in data:
            text += pdf_text(data)
        if needle in text.lower():
            hits.append(str(path.relative_to(root)))
    return hits


def _canary_place_context(canary_referral):
    """The context of the canary's place (contexts), its key in the row and twice in history:
    only the canary referral names the place, so its disposal must take the key away."""
    from contexts.models import Context
    from core.records import save_with_history

    key = ReferralDetail.objects.get(referral=canary_referral).incident_place_key
    assert CANARY in key
    context = Context(kind=Context.Kind.PLACE, place_key=key)
    save_with_history(context, user=None, reason="Context opened by a pattern rule")
    save_with_history(context, user=None, reason="A later version")


def _approve(batch, approver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.disposal_batch_approve(user=approver, batch_id=batch.pk, approve=True)


def test_every_exempt_model_is_reached_by_disposal_or_named_as_not_per_record():
    """A new exempt field on a new model cannot escape disposal unnoticed."""
    covered = retention.erased_models() | set(retention.not_per_record())
    assert set(exempt.registered_models()) <= covered, set(exempt.registered_models()) - covered


def test_disposal_leaves_no_canary_in_any_table_or_file_and_a_held_referral_survives(
    canary_referral, role_user, governance, schedule, tmp_path, django_capture_on_commit_callbacks
):
    schedule.MEDIA_ROOT = str(tmp_path / "media")
    decider, approver = governance
    canary_assessment(role_user, canary_referral, name="disposal")
    _stored_files(canary_referral)
    _canary_place_context(canary_referral)
    held = _held_referral(role_user)
    services.legal_hold_place(
        user=decider,
        name="Inquiry into child sexual abuse",
        reason="The inquiry instructed that no records about child sexual abuse are destroyed",
        references=[held.reference],
    )
    # The decision's remaining free text, and a subject access request whose redactions name
    # the other child: then every exempt text field the disposal reaches holds the canary.
    from referrals.models import ReferralDecision

    decision = ReferralDecision.objects.get(referral=canary_referral)
    for name in ("guidance_departure_reason", "amendment_reason", "authorisation_note"):
        setattr(decision, name, f"Qzcnry {name}")
    decision.save()
    victim = canary_referral.children.get(role="victim")
    services.sar_log(
        user=decider,
        reference=canary_referral.reference,
        label=victim.label,
        requester_name="A parent",
        relation="parent",
        identity_verified="Passport seen",
        received_on=timezone.localdate(),
    )
    for model in retention.erased_models():
        for name in exempt.exempt_fields(model):
            field = model._meta.get_field(name)
            if field.is_relation or field.get_internal_type() not in ("CharField", "TextField"):
                continue
            planted = model._default_manager.filter(**{f"{name}__icontains": CANARY}).exists()
            assert planted, f"no canary planted in {model.__name__}.{name}"

    # Planted everywhere before (history included: the narrative had a first version).
    assert database_hits(CANARY, DOB)
    assert any(table.startswith("referrals_historical") for table, _ in database_hits(CANARY, DOB))
    assert file_hits(Path(schedule.MEDIA_ROOT), CANARY)

    later = timezone.localdate() + dt.timedelta(days=800)
    assert services.disposal_review_list(today=later) == 1  # the held referral is not listed
    assert services.disposal_review_list(today=later) == 0  # safe to run twice
    candidate = DisposalCandidate.objects.get()
    assert candidate.reference == canary_referral.reference
    services.disposal_candidate_decide(user=decider, candidate_id=candidate.pk, decision="dispose")
    batch = services.disposal_batch_create(user=decider)
    with pytest.raises(PermissionDenied):
        services.disposal_batch_approve(user=decider, batch_id=batch.pk, approve=True)
    _approve(batch, approver, django_capture_on_commit_callbacks)

    batch.refresh_from_db()
    assert batch.status == DisposalBatch.Status.DISPOSED
    assert database_hits(CANARY, DOB) == []
    assert file_hits(Path(schedule.MEDIA_ROOT), CANARY) == []

    tombstone = Tombstone.objects.get()
    assert tombstone.reference == canary_referral.reference
    assert tombstone.facts["outcomes"] == ["police"]
    assert tombstone.facts["forms_of_abuse"]
    assert [c["role"] for c in tombstone.facts["children"]] == ["victim", "alleged_perpetrator"]
    assert Referral.objects.filter(pk=canary_referral.pk, reference=canary_referral.reference).exists()

    # The held referral is whole.
    assert database_hits(HELD, HELD_DOB)
    assert ReferralDetail.objects.get(referral=held).narrative == "Zqholdy narrative"
    assert held.children.count() == 2


def test_a_hold_placed_after_the_decision_still_stops_the_disposal(
    canary_referral, governance, schedule, django_capture_on_commit_callbacks
):
    decider, approver = governance
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))
    candidate = DisposalCandidate.objects.get()
    services.disposal_candidate_decide(user=decider, candidate_id=candidate.pk, decision="dispose")
    batch = services.disposal_batch_create(user=decider)
    # A date-range hold on its forms of abuse, placed by the approver before approving.
    services.legal_hold_place(
        user=approver,
        name="Police operation",
        reason="The police asked that records of this period are kept for their investigation",
        received_from=timezone.localdate() - dt.timedelta(days=30),
        forms_of_abuse=list(canary_referral.forms_of_abuse.all()),
    )
    _approve(batch, approver, django_capture_on_commit_callbacks)
    candidate.refresh_from_db()
    assert candidate.status == DisposalCandidate.Status.HELD
    assert not Tombstone.objects.exists()
    assert "Qzcnry" in ReferralDetail.objects.get(referral=canary_referral).narrative


def test_a_child_in_a_kept_referral_stays(
    canary_referral, role_user, governance, schedule, django_capture_on_commit_callbacks
):
    decider, approver = governance
    victim = canary_referral.children.get(role="victim").child
    other = referral_services.referral_create(
        user=role_user(Role.MASH_PRACTITIONER, username="second-creator"),
        data=referral_input(),
        children=[
            child_input("victim", first_name="Other", last_name="Child"),
            child_input("alleged_perpetrator", first_name="Another", last_name="Child"),
        ],
    )
    ReferralChild.objects.create(referral=other, child=victim, role="other", label="C")
    LegalHold.objects.create(
        name="Keep the other", reason="Kept for the test", placed_by=decider, placed_at=timezone.now()
    ).referrals.add(other)
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))
    candidate = DisposalCandidate.objects.get()
    services.disposal_candidate_decide(user=decider, candidate_id=candidate.pk, decision="dispose")
    _approve(services.disposal_batch_create(user=decider), approver, django_capture_on_commit_callbacks)
    assert Child.objects.filter(pk=victim.pk).exists()
    assert not canary_referral.children.exists()
    assert Child.objects.filter(first_name="QzcnryFirstB").count() == 0


def test_extend_and_hold_decisions(canary_referral, governance, schedule):
    decider, _ = governance
    later = timezone.localdate() + dt.timedelta(days=800)
    services.disposal_review_list(today=later)
    candidate = DisposalCandidate.objects.get()
    with pytest.raises(ValidationError) as refused:
        services.disposal_candidate_decide(user=decider, candidate_id=candidate.pk, decision="extend")
    assert set(refused.value.message_dict) == {"reason", "extended_to"}
    services.disposal_candidate_decide(
        user=decider,
        candidate_id=candidate.pk,
        decision="extend",
        reason="The family has asked for the records while a complaint is open",
        extended_to=timezone.localdate() + dt.timedelta(days=900),
    )
    # Kept longer: not listed again until its new date.
    assert services.disposal_review_list(today=later) == 0
    assert services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=901)) == 1
    again = DisposalCandidate.objects.get(status=DisposalCandidate.Status.AWAITING_DECISION)
    services.disposal_candidate_decide(
        user=decider,
        candidate_id=again.pk,
        decision="hold",
        hold_name="Civil claim",
        reason="A civil claim has been made and the records must be kept for it",
    )
    again.refresh_from_db()
    assert again.status == DisposalCandidate.Status.HELD
    assert again.hold.referrals.get() == canary_referral


def test_the_database_refuses_a_batch_approved_by_its_maker(governance):
    decider, _ = governance
    batch = DisposalBatch.objects.create(created_by=decider, created_at=timezone.now())
    batch.approved_by = decider
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.save()


def test_only_information_governance_manages_retention(role_user, canary_referral):
    manager = role_user(Role.MASH_MANAGER, username="a-manager")
    with pytest.raises(PermissionDenied):
        services.legal_hold_place(
            user=manager, name="x", reason="A reason long enough to say something", references=[]
        )


def test_the_schedule_picks_the_rule_for_the_outcome_and_documents_its_source(settings):
    from django.conf import settings as live

    rules = {rule.key: rule for rule in retention.schedule()}
    assert rules["referral:*"].trigger == "youngest_child_dob"
    assert rules["referral:*"].years == 25
    assert all(rule.source for rule in rules.values())
    assert retention.rule_for("referral", "nfa").trigger == "closure"
    assert retention.rule_for("referral", "police").key == "referral:*"
    assert (
        live.CELERY_BEAT_SCHEDULE["list-for-disposal-review"]["task"]
        == "records.tasks.list_for_disposal_review"
    )
    settings.RETENTION_SCHEDULE = [
        {"record_type": "referral", "trigger": "closure", "years": 0, "source": "x"}
    ]
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        retention.schedule()


def test_a_restore_from_an_older_backup_disposes_again_from_the_register(
    canary_referral, governance, schedule, django_capture_on_commit_callbacks
):
    """The register (kept apart from the database) lists each disposal; a database restored
    from a backup taken before it still holds the record, and reapply_disposals disposes of it."""
    import json

    from django.core.management import call_command

    decider, approver = governance
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))
    candidate = DisposalCandidate.objects.get()
    services.disposal_candidate_decide(user=decider, candidate_id=candidate.pk, decision="dispose")
    batch = services.disposal_batch_create(user=decider)
    _approve(batch, approver, django_capture_on_commit_callbacks)
    register = Path(schedule.DISPOSAL_REGISTER_PATH)
    [line] = [json.loads(raw) for raw in register.read_text().splitlines()]
    assert line["reference"] == canary_referral.reference
    assert CANARY not in register.read_text().lower()

    # "The restore": the database as it was before the disposal (a new canary referral under the
    # same id stands in for the restored rows), the register as it is now.
    Tombstone.objects.all().delete()
    DisposalCandidate.objects.all().delete()
    ReferralDetail.objects.filter(referral=canary_referral).update(narrative="Qzcnry restored narrative")
    assert database_hits(CANARY, DOB)
    call_command("reapply_disposals")
    assert database_hits(CANARY, DOB) == []
    assert Tombstone.objects.get().certificate == batch.certificate_number
    call_command("reapply_disposals")  # safe to run twice
    assert Tombstone.objects.count() == 1
