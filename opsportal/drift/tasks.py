"""Celery tasks for drift checks. One beat entry (`drift-dispatch`, every 10 s in
CELERY_BEAT_SCHEDULE) fans out one task per due source.

- Tasks take ids. The dispatcher claims a due source with a conditional UPDATE of
  its `next_due_at` (two beats, or a beat and a slow worker, never queue it twice)
  and passes the claim time; a check task that finds the source already checked
  since then does nothing, so a redelivered task (acks_late) is harmless.
- Per-source lock (`services.lock_acquire`): two workers never check one source
  at once; the second skips.
- Retries only for a lost database connection (`OperationalError`): an unreachable
  time source is not retried, it is recorded as `unreachable` (that is the evidence).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from opsportal.core.request_context import request_context
from opsportal.drift.config import config_check_run
from opsportal.drift.models import ConfigTarget, TimeSource
from opsportal.drift.services import time_source_check_now, time_sources_mark_stale

CHECK_SOFT_TIME_LIMIT = 60
CHECK_TIME_LIMIT = 90


@shared_task(
    name="opsportal.drift.tasks.drift_dispatch_due_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_jitter=True,
    soft_time_limit=20,
    time_limit=30,
)
def drift_dispatch_due_task() -> list[int]:
    """Mark stale sources, then queue a check for every enabled source that is due.
    Returns the ids queued."""
    now = timezone.now()
    with request_context(source="task"):
        time_sources_mark_stale(now=now)
    queued = []
    due = TimeSource.objects.filter(enabled=True, next_due_at__lte=now).values_list(
        "pk", "interval_seconds", "next_due_at"
    )
    for pk, interval, due_at in due:
        claimed = TimeSource.objects.filter(pk=pk, next_due_at=due_at).update(
            next_due_at=now + dt.timedelta(seconds=interval)
        )
        if claimed:
            drift_source_check_task.delay(pk, now.isoformat())
            queued.append(pk)
    due_targets = ConfigTarget.objects.filter(enabled=True, next_due_at__lte=now).values_list(
        "pk", "interval_seconds", "next_due_at"
    )
    for pk, interval, due_at in due_targets:
        claimed = ConfigTarget.objects.filter(pk=pk, next_due_at=due_at).update(
            next_due_at=now + dt.timedelta(seconds=interval)
        )
        if claimed:
            drift_config_check_task.delay(pk, now.isoformat())
    return queued


@shared_task(
    name="opsportal.drift.tasks.drift_config_check_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_jitter=True,
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
    time_limit=CHECK_TIME_LIMIT,
)
def drift_config_check_task(target_id: int, claimed_at: str | None = None) -> str:
    """Check configuration target `target_id` once (skipped when it was checked since
    it was queued, so a redelivered task does nothing)."""
    target = ConfigTarget.objects.filter(pk=target_id).first()
    if target is None or not target.enabled:
        return "skipped: no such enabled target"
    claimed = dt.datetime.fromisoformat(claimed_at) if claimed_at else None
    if claimed and target.last_check_at and target.last_check_at >= claimed:
        return "skipped: already checked since it was queued"
    with request_context(source="task"):
        return config_check_run(target_id=target_id).status


@shared_task(
    name="opsportal.drift.tasks.drift_source_check_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_jitter=True,
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
    time_limit=CHECK_TIME_LIMIT,
)
def drift_source_check_task(source_id: int, claimed_at: str | None = None) -> str:
    """Check source `source_id` once. Answers what happened: the status, or
    `skipped:` and why (gone, disabled, already checked since the claim, locked)."""
    source = TimeSource.objects.filter(pk=source_id).first()
    if source is None or not source.enabled:
        return "skipped: no such enabled source"
    claimed = dt.datetime.fromisoformat(claimed_at) if claimed_at else None
    if claimed and source.last_check_at and source.last_check_at >= claimed:
        return "skipped: already checked since it was queued"
    with request_context(source="task"):
        check = time_source_check_now(source=source, actor=None)
    if check is None:
        return "skipped: another worker is checking it"
    return check.status
