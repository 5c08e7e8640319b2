"""Celery tasks for approvals."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from opsportal.approvals.services import EXPIRE_BATCH_SIZE, approvals_expire_due
from opsportal.core.request_context import request_context

# Runs every minute: CELERY_BEAT_SCHEDULE in settings.py.


@shared_task(
    name="opsportal.approvals.tasks.approvals_expire_due_task",
    acks_late=True,
    # A lost database connection is worth retrying; anything else is a bug to see.
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    soft_time_limit=60,
    time_limit=90,
)
def approvals_expire_due_task() -> int:
    """Expire pending requests past their expiry. Idempotent; a full batch re-queues
    itself for the rest."""
    with request_context(source="task"):
        expired = approvals_expire_due()
    if expired >= EXPIRE_BATCH_SIZE:
        approvals_expire_due_task.delay()
    return expired
