"""Reads of the drift app: sources with their effective status, checks, the chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from opsportal.approvals.registry import PreconditionResult
from opsportal.controls.models import Environment
from opsportal.drift.models import (
    ClockCheck,
    ClockStatus,
    ConfigFinding,
    ConfigTarget,
    TimeSource,
)
from opsportal.drift.services import is_stale

FRESH_STATUSES = (ClockStatus.HEALTHY,)


def effective_status(source: TimeSource, now: dt.datetime | None = None) -> str:
    """The status to show: the last check's, or `stale` when the last good check is
    older than three intervals (never shown as healthy then)."""
    now = now or timezone.now()
    if source.status in (ClockStatus.UNREACHABLE, ClockStatus.UNKNOWN, ClockStatus.STALE):
        return source.status
    if is_stale(source, now):
        return ClockStatus.STALE
    return source.status


@dataclass(frozen=True)
class SourceRow:
    source: TimeSource
    status: str
    age_seconds: int | None


def source_rows(now: dt.datetime | None = None) -> list[SourceRow]:
    now = now or timezone.now()
    rows = []
    for s in TimeSource.objects.prefetch_related("environments"):
        age = int((now - s.last_check_at).total_seconds()) if s.last_check_at else None
        rows.append(SourceRow(source=s, status=effective_status(s, now), age_seconds=age))
    return rows


def checks_since(source: TimeSource, since: dt.datetime) -> list[ClockCheck]:
    return list(
        ClockCheck.objects.filter(source=source, checked_at__gte=since).order_by("checked_at")
    )


def clock_drift_precondition(environment: Environment) -> PreconditionResult:
    """Going LIVE needs every source guarding the environment healthy with a fresh
    last check (issue 11; with no source guarding it there is nothing to fail: the
    line passes and says so). One query."""
    label = "Clock drift healthy and fresh"
    now = timezone.now()
    sources = list(TimeSource.objects.filter(environments=environment, enabled=True))
    if not sources:
        return PreconditionResult("clock_drift", label, True, "no time source guards it")
    bad = [
        f"{s.name}: {st}"
        for s in sources
        if (st := effective_status(s, now)) != ClockStatus.HEALTHY or s.neutral_reason
    ]
    if bad:
        return PreconditionResult("clock_drift", label, False, "; ".join(bad))
    return PreconditionResult(
        "clock_drift", label, True, ", ".join(f"{s.name} healthy" for s in sources)
    )


def config_rows(user: Any) -> list[ConfigTarget] | None:
    """Every watched configuration with its open findings (`open_findings`), or None
    without the permission."""
    if not user.has_perm("drift.view_configtarget"):
        return None
    targets = list(ConfigTarget.objects.select_related("environment"))
    open_ = ConfigFinding.objects.filter(resolved_at__isnull=True, target__in=targets)
    by_target: dict[int, list[ConfigFinding]] = {}
    for finding in open_:
        by_target.setdefault(finding.target_id, []).append(finding)
    for target in targets:
        target.open_findings = by_target.get(target.pk, [])  # type: ignore[attr-defined]  # view-only annotation
    return targets
