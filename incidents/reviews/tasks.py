"""Celery tasks of post-incident reviews (registered through incidents/tasks.py,
which Celery's autodiscovery imports). Both take ids or nothing, have time limits
and are safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from incidents.reviews import services


@shared_task(
    name="incidents.tasks.review_create_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=5,
    soft_time_limit=30,
    time_limit=60,
)
def review_create_task(incident_id: int) -> int | None:
    """Create the review a resolved incident's severity requires (no-op if it exists)."""
    review = services.review_ensure_for_resolved(incident_id=incident_id)
    return review.pk if review else None


@shared_task(
    name="incidents.tasks.reviews_overdue_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=5,
    soft_time_limit=60,
    time_limit=90,
)
def reviews_overdue_task() -> dict[str, int]:
    """Every 5 minutes (CELERY_BEAT_SCHEDULE): flag overdue reviews and action items."""
    run = services.reviews_flag_overdue()
    return {"reviews": run.reviews, "action_items": run.action_items}
