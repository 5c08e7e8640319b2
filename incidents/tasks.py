"""Celery tasks of the incidents app."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from incidents.escalation import incidents_escalate_due
from incidents.reviews.tasks import review_create_task, reviews_overdue_task
from opsportal.core.request_context import request_context

# Runs every minute: CELERY_BEAT_SCHEDULE in settings.py.


@shared_task(
    name="incidents.tasks.incidents_escalate_due_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=5,
    retry_backoff_max=60,
    soft_time_limit=60,
    time_limit=90,
)
def incidents_escalate_due_task() -> int:
    """Escalate unacknowledged incidents whose next level is due (safe to run twice
    and on two workers: incidents.escalation)."""
    with request_context(source="task"):
        return incidents_escalate_due()


# The post-incident review tasks live in incidents/reviews/tasks.py; imported above so
# Celery's autodiscovery (which imports `<app>.tasks`) registers them.
__all__ = ["incidents_escalate_due_task", "review_create_task", "reviews_overdue_task"]
