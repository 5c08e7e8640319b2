"""Celery tasks for drills."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from drills.selectors import schedule_statuses

logger = logging.getLogger(__name__)

# Runs hourly: CELERY_BEAT_SCHEDULE in settings.py.


@shared_task(
    name="drills.tasks.drills_overdue_scan_task",
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
def drills_overdue_scan_task() -> list[dict[str, str]]:
    """Log one structured warning per overdue drill schedule (alerting picks these
    up) and return them. Read-only, so safe to run twice."""
    overdue = [
        {
            "schedule": str(st.schedule.pk),
            "procedure": st.schedule.procedure.slug,
            "environment": st.schedule.environment.slug,
            "due_on": st.next_due_on.isoformat() if st.next_due_on else "",
        }
        for st in schedule_statuses()
        if st.is_overdue
    ]
    for item in overdue:
        logger.warning("drill.overdue", extra=item)
    return overdue
