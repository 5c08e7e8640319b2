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
from typing import Any

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from opsportal.core.request_context import request_context
from opsportal.drift.config import config_check_run
from opsportal.drift.models import ConfigTarget, TimeSource
from opsportal.drift.services import time_source_check_now, time_sources_mark_stale

CHECK_SOFT_TIME_LIMIT = 60
CHECK_TIME_LIMIT = 90
# Every drift task: redelivered if a worker dies mid-task, retried only for a lost
# database connection.
_RETRY_ON_LOST_DATABASE: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "max_retries": 3,
    "retry_backoff": 2,
    "retry_jitter": True,
}


def _claim_due(model: type[TimeSource] | type[ConfigTarget], now: dt.datetime) -> list[int]:
    """Ids of the enabled rows of `model` due at `now`, each claimed by moving its
    `next_due_at` one interval on with a conditional UPDATE (a row another beat
    claimed first is left out)."""
    claimed = []
    due = model.objects.filter(enabled=True, next_due_at__lte=now).values_list(
        "pk", "interval_seconds", "next_due_at"
    )
    for pk, interval, due_at in due:
        if model.objects.filter(pk=pk, next_due_at=due_at).update(
            next_due_at=now + dt.timedelta(seconds=interval)
        ):
            claimed.append(pk)
    return claimed


def _skip_reason(row: TimeSource | ConfigTarget | None, what: str, claimed_at: str | None) -> str:
    """Why a check task queued at `claimed_at` (ISO 8601) does nothing for `row`, or
    "" when it should check."""
    if row is None or not row.enabled:
        return f"skipped: no such enabled {what}"
    claimed = dt.datetime.fromisoformat(claimed_at) if claimed_at else None
    if claimed and row.last_check_at and row.last_check_at >= claimed:
        return "skipped: already checked since it was queued"
    return ""


@shared_task(
    name="opsportal.drift.tasks.drift_dispatch_due_task",
    soft_time_limit=20,
    time_limit=30,
    **_RETRY_ON_LOST_DATABASE,
)
def drift_dispatch_due_task() -> list[int]:
    """Mark stale sources, then queue a check for every enabled source and watched
    configuration that is due. Returns the time-source ids queued."""
    now = timezone.now()
    with request_context(source="task"):
        time_sources_mark_stale(now=now)
    queued = _claim_due(TimeSource, now)
    for pk in queued:
        drift_source_check_task.delay(pk, now.isoformat())
    for pk in _claim_due(ConfigTarget, now):
        drift_config_check_task.delay(pk, now.isoformat())
    return queued


@shared_task(
    name="opsportal.drift.tasks.drift_config_check_task",
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
    time_limit=CHECK_TIME_LIMIT,
    **_RETRY_ON_LOST_DATABASE,
)
def drift_config_check_task(target_id: int, claimed_at: str | None = None) -> str:
    """Check configuration target `target_id` once (skipped when it was checked since
    it was queued, so a redelivered task does nothing)."""
    target = ConfigTarget.objects.filter(pk=target_id).first()
    if skipped := _skip_reason(target, "target", claimed_at):
        return skipped
    with request_context(source="task"):
        return config_check_run(target_id=target_id).status


@shared_task(
    name="opsportal.drift.tasks.drift_source_check_task",
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
    time_limit=CHECK_TIME_LIMIT,
    **_RETRY_ON_LOST_DATABASE,
)
def drift_source_check_task(source_id: int, claimed_at: str | None = None) -> str:
    """Check source `source_id` once. Answers what happened: the status, or
    `skipped:` and why (gone, disabled, already checked since the claim, locked)."""
    source = TimeSource.objects.filter(pk=source_id).first()
    skipped = _skip_reason(source, "source", claimed_at)
    if skipped or source is None:
        return skipped
    with request_context(source="task"):
        check = time_source_check_now(source=source, actor=None)
    if check is None:
        return "skipped: another worker is checking it"
    return check.status
