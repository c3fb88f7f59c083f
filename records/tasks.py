"""Background jobs for the records lifecycle. Tasks take primary keys only."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="records.tasks.list_for_disposal_review")
def list_for_disposal_review() -> int:
    """Celery beat (daily): list records past their retention period for the disposal review."""
    from records.services import disposal_review_list

    return disposal_review_list()


@shared_task(name="records.tasks.dispose_batch", acks_late=True)
def dispose_batch(batch_id: int) -> None:
    """Carry out an approved disposal batch (queued through core.outbox). Safe to run twice."""
    from records.services import disposal_batch_carry_out

    disposal_batch_carry_out(batch_id=batch_id)
