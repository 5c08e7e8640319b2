"""Celery tasks delivering notifications.

`enqueue(ids)` runs on commit of the change that notified; when Redis is down it only
logs: the rows are queued in the database and `notifications_deliver_due_task`
(every minute, CELERY_BEAT_SCHEDULE) sends them once the broker is back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task
from django.db import OperationalError

from opsportal.core.request_context import request_context
from opsportal.notifications.delivery import backoff_seconds, deliver_one, due_delivery_ids
from opsportal.notifications.models import Delivery

logger = logging.getLogger(__name__)


@shared_task(
    name="opsportal.notifications.tasks.notification_deliver_task",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=None,
    soft_time_limit=60,
    time_limit=90,
)
def notification_deliver_task(self: object, delivery_id: int) -> str:
    """Send one delivery (safe to run twice). On failure it re-queues itself after
    the backoff; the minute sweeper catches it anyway if this retry is lost."""
    with request_context(source="task"):
        status = deliver_one(delivery_id)
    if status == Delivery.Status.FAILED:
        attempts = Delivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True)
        countdown = backoff_seconds(attempts[0] if attempts else 1)
        if not getattr(getattr(self, "request", None), "is_eager", False):
            notification_deliver_task.apply_async((delivery_id,), countdown=countdown)
    return status


@shared_task(
    name="opsportal.notifications.tasks.notifications_deliver_due_task",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def notifications_deliver_due_task() -> int:
    """Queue every delivery that is due (new ones whose queueing failed, retries)."""
    ids = due_delivery_ids()
    enqueue(ids)
    return len(ids)


def enqueue(ids: Iterable[int]) -> None:
    """Queue a delivery task for each id; a broker outage is logged, not raised (the
    change that notified has committed; the sweeper sends these later)."""
    for pk in ids:
        try:
            notification_deliver_task.delay(pk)
        except Exception:  # noqa: BLE001 - the broker is down: the sweeper retries
            logger.warning("notification delivery %s not queued (broker down?)", pk, exc_info=True)
