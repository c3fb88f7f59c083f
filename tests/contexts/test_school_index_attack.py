"""Attacking the school index (contexts.school_index): the per-referral check must find the
school patterns the nightly run (contexts.evaluation.patterns_all) finds, however the
referrals came to say what they say."""

import datetime as dt

import pytest

from contexts import evaluation
from contexts.models import Alert, PatternRule, SchoolReferral
from contexts.services import patterns_check_all
from devtools.synthetic import to_csv
from referrals import changes
from referrals.models import Referral, School
from tests.contexts.helpers import VICTIM, at, pupils, referral
from tests.factories import SchoolFactory
from tests.support.imports import import_file, sample_rows

pytestmark = pytest.mark.django_db
D = dt.date
Kind = PatternRule.Kind


def _school_rule_only() -> PatternRule:
    PatternRule.objects.exclude(kind=Kind.SCHOOL).update(active=False)
    return PatternRule.objects.get(kind=Kind.SCHOOL)  # 3 referrals within 12 months


def test_a_batch_of_saved_referrals_raises_no_school_alert_the_nightly_run_would_not(
    django_capture_on_commit_callbacks,
):
    rule = _school_rule_only()
    school = SchoolFactory()
    # Before: no three of them within 12 months.
    moved_in = referral(D(2019, 1, 10), [(pupils(school, 1)[0], VICTIM)])
    referral(D(2021, 1, 10), [(pupils(school, 1)[0], VICTIM)])
    moved_out = referral(D(2021, 2, 10), [(pupils(school, 1)[0], VICTIM)])
    assert patterns_check_all().raised == 0
    assert evaluation.patterns_all(rule) == []

    # One save of two referrals (as an import corrects their dates in bulk, in one transaction):
    # the first moves into the window, the second out of it. Still no three within 12 months.
    Referral.objects.filter(pk=moved_in.pk).update(received_at=at(D(2021, 1, 20)))
    Referral.objects.filter(pk=moved_out.pk).update(received_at=at(D(2023, 6, 1)))
    assert evaluation.patterns_all(rule) == []
    with django_capture_on_commit_callbacks(execute=True):
        changes.referrals_saved(referral_ids=[moved_in.pk, moved_out.pk])  # a check each, in order

    # What the checks raised is what the nightly run would: nothing.
    assert list(Alert.objects.values_list("pk", flat=True)) == []


def test_a_batch_check_leaves_the_index_as_the_referrals_say(django_capture_on_commit_callbacks):
    """Whatever the alerts, once every check of the batch has run the index is right."""
    _school_rule_only()
    school = SchoolFactory()
    made = [referral(day, [(pupils(school, 1)[0], VICTIM)]) for day in (D(2019, 1, 10), D(2021, 2, 10))]
    Referral.objects.filter(pk=made[0].pk).update(received_at=at(D(2021, 1, 20)))
    Referral.objects.filter(pk=made[1].pk).update(received_at=at(D(2023, 6, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        changes.referrals_saved(referral_ids=[m.pk for m in made])
    rows = dict(SchoolReferral.objects.values_list("referral_id", "received_at"))
    assert rows == {made[0].pk: at(D(2021, 1, 20)), made[1].pk: at(D(2023, 6, 1))}


def _row(n: int, day: dt.date) -> dict:
    """The sample file's first row as case ``n``, received on ``day``: its own two children
    (victim and alleged perpetrator, both at school 990035), so no two cases share a child."""
    row = dict(sample_rows()[0])
    stamp = day.strftime("%d/%m/%Y")
    row.update(
        source_id=f"CASE-ATTACK-{n}",
        received_at=f"{stamp} 09:30",
        incident_date=stamp,
        decided_at=f"{stamp} 15:10",
        closed_at=f"{stamp} 16:00",
        child1_first_name=f"Qzvictim{'abc'[n]}",
        child1_date_of_birth="02/03/2005",
        child2_first_name=f"Qzalleged{'abc'[n]}",
        child2_date_of_birth="11/07/2005",
    )
    return row


def test_an_import_correcting_dates_raises_no_school_alert_the_nightly_run_would_not(
    manager, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    rule = _school_rule_only()
    School.objects.create(urn="990035", name="Qzimport School", phase="secondary", local_authority="X")
    days = [D(2015, 1, 14), D(2017, 1, 10), D(2017, 2, 10)]
    with django_capture_on_commit_callbacks(execute=True):
        import_file(manager, to_csv([_row(n, day) for n, day in enumerate(days)]), "first.csv")
    assert Alert.objects.count() == 0
    # The corrected file: the first case was received in 2017, the third in 2019.
    days = [D(2017, 1, 20), D(2017, 1, 10), D(2019, 6, 3)]
    with django_capture_on_commit_callbacks(execute=True):
        import_file(manager, to_csv([_row(n, day) for n, day in enumerate(days)]), "corrected.csv")
    assert evaluation.patterns_all(rule) == []  # no three within 12 months
    assert list(Alert.objects.values_list("pk", flat=True)) == []


# --- what held: the table reaches no one, the captions read right ---------------------------------


@pytest.fixture
def reviewed_school(role_user):
    """A school alert of three same-school referrals; a review includes the first, assigned to
    ``reviewer``."""
    from contexts.models import Context
    from core.roles import Role
    from tests.contexts.helpers import review_of, school_referral

    PatternRule.objects.exclude(kind=Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Qzcaption Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    review_of(lead, [reviewer], [made[0]], assign={made[0]: reviewer})
    return {
        "url": f"/contexts/{Context.objects.get(kind=Context.Kind.SCHOOL, school=school).pk}/",
        "made": made,
        "lead": lead,
        "reviewer": reviewer,
    }


MANAGERS_CAPTION = "Referrals in this context's alerts"
REVIEWERS_CAPTION = "Referrals about this school that you may see"


def test_held_the_referrals_table_is_captioned_for_who_reads_it(reviewed_school, manager, verified_client):
    s = reviewed_school
    html = verified_client(manager).get(s["url"]).content.decode()
    assert MANAGERS_CAPTION in html
    assert REVIEWERS_CAPTION not in html
    response = verified_client(s["reviewer"]).get(s["url"])
    assert response.status_code == 200
    html = response.content.decode()
    assert REVIEWERS_CAPTION in html
    assert MANAGERS_CAPTION not in html
    assert "app-table-region" in html
    # Only the reviewed case: the school's other referrals stay out of the table.
    assert s["made"][0].reference in html
    for other in s["made"][1:]:
        assert other.reference not in html
    # The lead reviewer holds no grant on the case (they assess none): not even the page.
    response = verified_client(s["lead"]).get(s["url"])
    assert response.status_code == 404
    assert "Qzcaption" not in response.content.decode()


def test_held_the_index_is_not_in_the_admin(reviewed_school, admin_client):
    assert SchoolReferral.objects.exists()
    assert admin_client.get("/admin/contexts/schoolreferral/").status_code == 404
    index = admin_client.get("/admin/").content.decode()
    assert "schoolreferral" not in index.lower()
    assert "school referral" not in index.lower()
    # Deleting a school in the admin would list what goes with it: a child at the school
    # protects it, and the index's rows ("Referral n under school m") are not listed.
    school = SchoolReferral.objects.first().school
    page = admin_client.get(f"/admin/referrals/school/{school.pk}/delete/").content.decode()
    assert "under school" not in page


# --- a disposal while the nightly run rebuilds the index ------------------------------------------


class _Pausing:
    """``django.db.connection`` as contexts.school_index uses it, running ``before`` once just
    before the rebuild's first write to the index (after it has read the referrals)."""

    def __init__(self, connection, before):
        self._connection, self._before = connection, before

    def __getattr__(self, name):
        return getattr(self._connection, name)

    def cursor(self):
        real, before = self._connection.cursor(), self._before

        class Cursor:
            def __enter__(self):
                real.__enter__()
                return self

            def __exit__(self, *exc):
                return real.__exit__(*exc)

            def __getattr__(self, name):
                return getattr(real, name)

            def execute(self, sql, params=None):
                if sql.startswith("DELETE FROM") and before:
                    before.pop()()
                return real.execute(sql, params)

        return Cursor()


@pytest.mark.postgres  # two connections at once (SQLite writes one transaction at a time)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_referral_disposed_of_during_the_nightly_rebuild_is_not_written_back(manager):
    import threading

    from django.db import connections, transaction

    from contexts import school_index
    from core import retention
    from tests.contexts.helpers import school_referral
    from tests.nplusone import unit_of_work

    made = school_referral(SchoolFactory(name="Qzrace School"), D(2019, 1, 1))
    assert SchoolReferral.objects.filter(referral=made).exists()

    errors: list[BaseException] = []

    @unit_of_work
    def dispose():
        try:
            with transaction.atomic():
                retention.erase_and_dispose("referral", record_id=made.pk, user=manager, reason="Race")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    worker = threading.Thread(target=dispose)

    def in_another_connection():
        # The disposal starts while the rebuild compares; it waits for the rebuild to commit
        # (the index's advisory lock), then erases what the rebuild wrote.
        worker.start()
        worker.join(timeout=2)
        assert worker.is_alive(), "the disposal did not wait for the rebuild"

    original = school_index.connection
    school_index.connection = _Pausing(original, [in_another_connection])
    try:
        school_index.rebuild()
    finally:
        school_index.connection = original
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert not errors, errors
    assert Referral.objects.get(pk=made.pk).disposed_at is not None
    assert not SchoolReferral.objects.filter(referral_id=made.pk).exists()
