"""A real Celery worker process runs the decision-feedback job end to end.

Once on the embedded filesystem broker (what `make run` uses: no server to install) and
once on Redis (production and CI). The worker is a separate process reading the same
database, so the test data is committed (transactional_db).
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.support.celery_worker import _decide, _wait_for_feedback


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_on_embedded_filesystem_broker(worker, publish_to, tmp_path, practitioner):
    broker_dir = tmp_path / "broker"
    for folder in ("out", "processed"):
        (broker_dir / folder).mkdir(parents=True)
    options = {
        "data_folder_in": str(broker_dir / "out"),
        "data_folder_out": str(broker_dir / "out"),
        "processed_folder": str(broker_dir / "processed"),
        "store_processed": False,
    }
    publish_to("filesystem://", options)
    mail_dir = worker({"REDIS_URL": "", "CELERY_BROKER_DIR": str(broker_dir)})
    decision = _decide(practitioner)  # queued on commit, with the decision's id only
    decision = _wait_for_feedback(decision.pk)
    sent = list(mail_dir.glob("*.log"))
    assert len(sent) == 1
    body = sent[0].read_text()
    assert decision.referral.reference in body
    assert "Rita Referrer" not in body


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_on_redis(worker, publish_to, practitioner):
    url = os.environ["REDIS_URL"]
    publish_to(url, {"visibility_timeout": 3600})
    mail_dir = worker({"REDIS_URL": url})
    decision = _decide(practitioner)
    decision = _wait_for_feedback(decision.pk)
    assert len(list(mail_dir.glob("*.log"))) == 1
    assert settings.CELERY_TASK_ACKS_LATE is True
