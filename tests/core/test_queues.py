"""Three Celery queues: a cabinet pack never waits behind bulk e-mail (config/settings/base.py)."""

from __future__ import annotations

import pytest

from config.celery import app as celery_app

QUEUES = {"packs", "notifications", "default"}
PACKS = {"core.tasks.render_export_job", "modelguidance.tasks.render_published_pdf"}


def _queue(name: str) -> str:
    route = celery_app.amqp.router.route({}, name)
    return route["queue"].name


def _project_tasks() -> list[str]:
    celery_app.loader.import_default_modules()
    return sorted(name for name in celery_app.tasks if not name.startswith("celery."))


def test_every_task_goes_to_one_of_the_three_queues():
    names = _project_tasks()
    assert set(names) >= PACKS
    for name in names:
        assert _queue(name) in QUEUES, name


@pytest.mark.parametrize("name", sorted(PACKS))
def test_packs_have_their_own_queue(name):
    assert _queue(name) == "packs"


def test_every_e_mail_goes_to_the_notifications_queue_and_housekeeping_to_default():
    names = _project_tasks()
    mail = [name for name in names if ".send_" in name or ".notify_" in name]
    assert mail, "the project sends e-mail through tasks"
    for name in mail:
        assert _queue(name) == "notifications", name
    assert _queue("core.tasks.flush_outbox") == "default"
    assert _queue("referrals.tasks.delete_expired_grants") == "default"


@pytest.mark.django_db
def test_the_outbox_publishes_a_pack_to_the_packs_queue_and_mail_to_notifications(monkeypatch):
    """What the outbox hands the broker carries the task's queue (captured at the last step
    before the wire, so nothing runs and no broker is needed)."""
    from core import outbox

    published = []

    def capture(producer, name, message, **options):
        published.append(
            (name, options["queue"].name if hasattr(options["queue"], "name") else options["queue"])
        )

    monkeypatch.setattr(celery_app.amqp, "send_task_message", capture)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        for name in ("core.tasks.render_export_job", "referrals.tasks.send_decision_feedback"):
            message = outbox.OutboxMessage.objects.create(task=name, args=[1])
            assert outbox.outbox_publish(message_id=message.pk)
    finally:
        celery_app.conf.task_always_eager = eager
    assert published == [
        ("core.tasks.render_export_job", "packs"),
        ("referrals.tasks.send_decision_feedback", "notifications"),
    ]
