"""Writes of the drift app: time sources, clock checks and their effects.

A check is measured outside any transaction (network round trips must not hold row
locks), then recorded by `clock_check_record`, an entry point that in one durable
transaction: locks the source, stores the `ClockCheck` (the evidence), updates the
source's verdict, re-derives the gate columns of every environment it guards
(`Environment.neutral_reason`, `clock_fresh_until_ms`; the version goes up and the
change is published to the gate streams when the decision can change), opens or
notes the clock-drift incident, and writes the audit event. Lock order: source row,
then environment rows by id (the kill switch locks only the environment row).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incident_open_in_transaction, timeline_entry_add_in_transaction
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.controls.models import Environment
from opsportal.controls.notices import notify_gate_neutral_changed
from opsportal.controls.push import gate_change_publish_in_transaction
from opsportal.core.errors import DomainError, NotFound, ValidationFailed
from opsportal.drift.clock import (
    NEUTRAL_CLOCK_DRIFT,
    NEUTRAL_CLOCK_UNVERIFIED,
    STALE_AFTER_INTERVALS,
    classify,
    gate_clock_drift,
    gate_clock_unverified,
    next_neutral_reason,
)
from opsportal.drift.measure import Measurement, SourceUnusable, measure
from opsportal.drift.models import ClockCheck, ClockStatus, TimeSource
from opsportal.drift.notices import notify_clock_neutral, notify_clock_recovered

logger = logging.getLogger(__name__)

CLOCK_DRIFT_PLAYBOOK = "clock-drift-playbook"
INCIDENT_SEVERITY = "SEV2"
__all__ = [
    "clock_check_record",
    "time_source_check_now",
    "time_source_create",
    "time_source_enable",
    "time_sources_mark_stale",
]


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- time sources ---


@service_entry_point
def time_source_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    environments: list[Environment],
    url: str = "",
    json_field: str = "",
    ntp_host: str = "",
    ntp_port: int = 123,
    interval_seconds: int = 60,
) -> TimeSource:
    """A time source with the runbook's default limits (500 / 800 / 1000 ms either
    way). HTTP: `url` and `json_field`; NTP: `ntp_host` (and `ntp_port`)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the source a name.", field="name")
    if kind not in TimeSource.Kind.values:
        raise ValidationFailed("Kind is http or ntp.", field="kind")
    if kind == TimeSource.Kind.HTTP and not (url and json_field):
        raise ValidationFailed("An HTTP source needs --url and --json-field.", field="url")
    if kind == TimeSource.Kind.NTP and not ntp_host:
        raise ValidationFailed("An NTP source needs a host.", field="ntp_host")
    if not environments:
        raise ValidationFailed("Name at least one environment it guards.", field="environment")
    source = TimeSource(
        name=name,
        kind=kind,
        url=url,
        json_field=json_field,
        ntp_host=ntp_host,
        ntp_port=ntp_port,
        interval_seconds=interval_seconds,
    )
    try:
        source.full_clean()
    except Exception as exc:  # django ValidationError: one message for the caller
        raise ValidationFailed(f"Invalid time source: {exc}", field="name") from None
    with transaction.atomic(durable=True):
        source.save(force_insert=True)
        source.environments.set(environments)
        audit_record(
            actor=_user_or_none(actor),
            event_type="time_source.created",
            obj=source,
            after={
                "kind": kind,
                "target": source.target,
                "environments": [e.slug for e in environments],
            },
        )
    return source


@service_entry_point
def time_source_enable(*, source_id: int, enabled: bool, actor: Any) -> TimeSource:
    """Enable or disable a source; its environments' gate columns are derived again
    (a disabled source holds no NEUTRAL and no freshness)."""
    with transaction.atomic(durable=True):
        source = TimeSource.objects.select_for_update().get(pk=source_id)
        if source.enabled != enabled:
            source.enabled = enabled
            source.save(update_fields=["enabled"])
            _environments_rederive(source)
            audit_record(
                actor=_user_or_none(actor),
                event_type="time_source.updated",
                obj=source,
                after={"enabled": enabled},
            )
        return source


# --- checks ---


def time_source_check_now(
    *, source: TimeSource, actor: Any, is_drill: bool = False
) -> ClockCheck | None:
    """Measure `source` now and record the result. Holds the source's lock while it
    measures: answers None (nothing recorded) when another worker is checking it."""
    if not lock_acquire(source.pk):
        return None
    try:
        try:
            result: Measurement | str = measure(source)
        except SourceUnusable as exc:
            result = str(exc) or "unusable answer"
        return clock_check_record(
            source_id=source.pk, result=result, actor=actor, is_drill=is_drill
        )
    finally:
        lock_release(source.pk)


def lock_seconds(source: TimeSource) -> int:
    """How long a check may hold the source's lock: the measurement's worst case
    plus slack (a crashed worker's lock lapses by itself)."""
    return int(source.samples * source.timeout_ms / 1000) + 30


def lock_acquire(source_id: int) -> bool:
    """Take the per-source lock: one conditional UPDATE (atomic on every backend), so
    two workers never check the same source at once."""
    source = TimeSource.objects.filter(pk=source_id).only("samples", "timeout_ms").first()
    if source is None:
        return False
    now = timezone.now()
    until = now + dt.timedelta(seconds=lock_seconds(source))
    return (
        TimeSource.objects.filter(pk=source_id)
        .filter(Q(checking_until__isnull=True) | Q(checking_until__lt=now))
        .update(checking_until=until)
        == 1
    )


def lock_release(source_id: int) -> None:
    TimeSource.objects.filter(pk=source_id).update(checking_until=None)


@service_entry_point
def clock_check_record(
    *, source_id: int, result: Measurement | str, actor: Any = None, is_drill: bool = False
) -> ClockCheck:
    """Store one check of source `source_id` and apply its effects.

    `result` is a Measurement, or the reason the source was unusable (status
    `unreachable`). See the module docstring for what one call writes."""
    with transaction.atomic(durable=True):
        source = TimeSource.objects.select_for_update().filter(pk=source_id).first()
        if source is None:
            raise NotFound(f"No time source {source_id}.", code="unknown_source")
        now = timezone.now()
        if isinstance(result, Measurement):
            status = classify(source, result.offset_ms)
            check = ClockCheck(
                source=source,
                checked_at=now,
                status=status,
                offset_ms=result.offset_ms,
                rtt_ms=result.rtt_ms,
                error_ms=result.error_ms,
                samples_taken=result.samples_taken,
                samples_asked=result.samples_asked,
                is_drill=is_drill,
            )
            source.last_good_check_at = now
            source.last_offset_ms = result.offset_ms
            source.last_error_ms = result.error_ms
        else:
            status = ClockStatus.UNREACHABLE
            check = ClockCheck(
                source=source,
                checked_at=now,
                status=status,
                samples_asked=source.samples,
                detail=result[:500],
                is_drill=is_drill,
            )
        check.save(force_insert=True)
        source.last_check_at = now
        source.next_due_at = now + dt.timedelta(seconds=source.interval_seconds)
        _verdict_apply(source, status, actor=actor, check=check)
        return check


def time_sources_mark_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Record `stale` for every enabled source whose last good check is older than
    three intervals and that is not already unreachable or stale (the beat job's
    sweep: checks that should have run did not). Returns the source ids marked."""
    now = now or timezone.now()
    marked = []
    for source in TimeSource.objects.filter(enabled=True).exclude(
        status__in=(ClockStatus.STALE, ClockStatus.UNREACHABLE)
    ):
        if is_stale(source, now):
            time_source_mark_stale(source_id=source.pk)
            marked.append(source.pk)
    return marked


def is_stale(source: TimeSource, now: dt.datetime) -> bool:
    since = source.last_good_check_at or source.created_at
    return now - since > dt.timedelta(seconds=STALE_AFTER_INTERVALS * source.interval_seconds)


@service_entry_point
def time_source_mark_stale(*, source_id: int) -> ClockCheck | None:
    with transaction.atomic(durable=True):
        source = TimeSource.objects.select_for_update().filter(pk=source_id).first()
        now = timezone.now()
        if source is None or not is_stale(source, now) or source.status == ClockStatus.STALE:
            return None
        check = ClockCheck.objects.create(
            source=source,
            checked_at=now,
            status=ClockStatus.STALE,
            detail="no good check for three intervals",
        )
        _verdict_apply(source, ClockStatus.STALE, actor=None, check=check)
        return check


def _verdict_apply(source: TimeSource, status: str, *, actor: Any, check: ClockCheck) -> None:
    """Update `source`'s verdict after `check` and carry it to its environments and
    its incident. Inside the check's transaction, with the source row locked."""
    before = {
        "status": source.status,
        "neutral_reason": source.neutral_reason,
        "healthy_streak": source.healthy_streak,
    }
    source.status = status
    source.healthy_streak = source.healthy_streak + 1 if status == ClockStatus.HEALTHY else 0
    previous_reason = source.neutral_reason
    source.neutral_reason = next_neutral_reason(previous_reason, status, source.healthy_streak)
    source.save(
        update_fields=[
            "status",
            "healthy_streak",
            "neutral_reason",
            "last_check_at",
            "last_good_check_at",
            "last_offset_ms",
            "last_error_ms",
            "next_due_at",
        ]
    )
    envs = _environments_rederive(source)
    audit_record(
        actor=_user_or_none(actor),
        event_type="clock_check.recorded",
        obj=source,
        before=before,
        after={
            "status": status,
            "neutral_reason": source.neutral_reason,
            "healthy_streak": source.healthy_streak,
        },
        metadata={
            "check": check.pk,
            "offset_ms": check.offset_ms,
            "error_ms": check.error_ms,
            "rtt_ms": check.rtt_ms,
            "detail": check.detail,
            "is_drill": check.is_drill,
        },
    )
    if source.neutral_reason and source.neutral_reason != previous_reason:
        # Started holding NEUTRAL, or UNVERIFIED became DRIFT: open or note the incident.
        _neutral_set(source, check, envs)
    elif previous_reason and not source.neutral_reason:
        audit_record(
            actor=None,
            event_type="clock_drift.neutral_lifted",
            obj=source,
            before={"neutral_reason": previous_reason},
            metadata={"environments": [e.slug for e in envs], "check": check.pk},
        )
        notify_clock_recovered(source, check, previous_reason, [e.slug for e in envs])
        _incident_note(
            source,
            f"Clock drift recovered on source {source.name}: two consecutive healthy checks "
            f"({_describe(check)}); NEUTRAL lifted for "
            f"{', '.join(e.slug for e in envs) or 'no environment'}.",
        )


def _describe(check: ClockCheck) -> str:
    if check.offset_ms is None:
        return f"{check.status}: {check.detail}"
    return f"{check.status}, offset {check.offset_ms:+.1f} ± {check.error_ms or 0:.1f} ms"


def _environments_rederive(source: TimeSource) -> list[Environment]:
    """Re-derive the gate columns of every environment `source` guards from all the
    enabled sources guarding it; bump the version and publish where the decision can
    change. Environments are locked in id order."""
    env_ids = list(source.environments.order_by("pk").values_list("pk", flat=True))
    envs = list(Environment.objects.select_for_update().filter(pk__in=env_ids).order_by("pk"))
    now_ms = int(timezone.now().timestamp() * 1000)
    for env in envs:
        reason, fresh_until = environment_clock_state(env)
        old_lapsed = env.clock_fresh_until_ms is not None and env.clock_fresh_until_ms < now_ms
        new_lapsed = fresh_until is not None and fresh_until < now_ms
        if reason == env.neutral_reason and fresh_until == env.clock_fresh_until_ms:
            continue
        was_neutral = gate_neutral_reason(env)
        fields = ["neutral_reason", "clock_fresh_until_ms"]
        decision_may_change = reason != env.neutral_reason or old_lapsed != new_lapsed
        env.neutral_reason = reason
        env.clock_fresh_until_ms = fresh_until
        if decision_may_change:
            env.version = F("version") + 1
            fields.append("version")
        env.save(update_fields=fields)
        if decision_may_change:
            env.refresh_from_db(fields=["version"])
            gate_change_publish_in_transaction(environment=env)
            notify_gate_neutral_changed(env, was_neutral, gate_neutral_reason(env))
    return envs


def gate_neutral_reason(env: Environment) -> str:
    """The NEUTRAL reason the gate gives `env` from its drift columns now (the
    registered checks, in the gate's order), or "" (what the notices compare)."""
    state = {
        "mode": env.mode,
        "neutral_reason": env.neutral_reason,
        "clock_fresh_until_ms": env.clock_fresh_until_ms,
    }
    if gate_clock_drift(state):
        return NEUTRAL_CLOCK_DRIFT
    if gate_clock_unverified(state):
        return NEUTRAL_CLOCK_UNVERIFIED
    return ""


def environment_clock_state(env: Environment) -> tuple[str, int | None]:
    """(neutral_reason, clock_fresh_until_ms) of `env` from the enabled sources that
    guard it: DRIFT over UNVERIFIED over nothing; fresh until the earliest
    "last good check + three intervals" (None: no source guards it)."""
    reasons: set[str] = set()
    fresh: list[int] = []
    for s in TimeSource.objects.filter(environments=env, enabled=True).only(
        "neutral_reason", "last_good_check_at", "created_at", "interval_seconds"
    ):
        reasons.add(s.neutral_reason)
        since = s.last_good_check_at or s.created_at
        until = since + dt.timedelta(seconds=STALE_AFTER_INTERVALS * s.interval_seconds)
        fresh.append(int(until.timestamp() * 1000))
    if NEUTRAL_CLOCK_DRIFT in reasons:
        reason = NEUTRAL_CLOCK_DRIFT
    else:
        reason = next((r for r in sorted(reasons) if r), "")
    return reason, (min(fresh) if fresh else None)


def _neutral_set(source: TimeSource, check: ClockCheck, envs: list[Environment]) -> None:
    """The source started holding NEUTRAL (or a new reason): audit it and open (or
    note on) its incident.
    An UNVERIFIED hold on sources guarding no LIVE environment changes no gate and
    opens no incident."""
    live = [e for e in envs if e.mode == Environment.Mode.LIVE]
    audit_record(
        actor=None,
        event_type="clock_drift.neutral_set",
        obj=source,
        after={"neutral_reason": source.neutral_reason},
        metadata={"environments": [e.slug for e in envs], "check": check.pk},
    )
    gated = envs if source.neutral_reason == NEUTRAL_CLOCK_DRIFT else live
    # Operators and risk officers are told of every hold, drills and off-LIVE too.
    notify_clock_neutral(source, check, [e.slug for e in gated])
    if check.is_drill or (source.neutral_reason != NEUTRAL_CLOCK_DRIFT and not live):
        return  # a drill opens no incident, nor an UNVERIFIED hold off LIVE
    body = (
        f"Clock drift on source {source.name} ({source.target}): {_describe(check)}. "
        f"Gate NEUTRAL ({source.neutral_reason}) for {', '.join(e.slug for e in gated)}."
    )
    if source.incident_id and Incident.objects.open().filter(pk=source.incident_id).exists():
        _incident_note(source, body)
        return
    incident_id = _incident_open(source, body, gated)
    if incident_id is not None:
        source.incident_id = incident_id
        source.save(update_fields=["incident_id"])
        _incident_note(source, body)


def _incident_open(source: TimeSource, body: str, envs: list[Environment]) -> int | None:
    """Open the SEV2 of a source with the clock-drift playbook (without it when the
    library lacks it), each attempt in a savepoint: NEUTRAL is set whatever happens
    to the incident, and a failure is logged."""
    env = next((e for e in envs if e.mode == Environment.Mode.LIVE), envs[0] if envs else None)
    title = f"Clock drift on {source.name}: gate NEUTRAL for {', '.join(e.slug for e in envs)}"
    for playbook in (CLOCK_DRIFT_PLAYBOOK, None):
        try:
            with transaction.atomic():
                incident = incident_open_in_transaction(
                    actor=None,
                    title=title[:200],
                    severity=INCIDENT_SEVERITY,
                    summary=body,
                    environment=env,
                    playbook_slug=playbook,
                    affected_systems=f"time source {source.name}",
                )
                return incident.pk
        except (DomainError, DatabaseError) as exc:  # noqa: PERF203 - see docstring
            logger.error(
                "drift.incident_open_failed",
                extra={"source": source.name, "playbook": playbook, "error": repr(exc)},
            )
    return None


def _incident_note(source: TimeSource, body: str) -> None:
    if not source.incident_id:
        return
    incident = Incident.objects.filter(pk=source.incident_id).first()
    if incident is None:
        return
    try:
        with transaction.atomic():
            timeline_entry_add_in_transaction(
                incident=incident,
                actor=None,
                kind="control",
                body=body,
                metadata={"time_source": source.name, "neutral_reason": source.neutral_reason},
            )
    except (DomainError, DatabaseError) as exc:
        logger.error(
            "drift.incident_note_failed", extra={"source": source.name, "error": repr(exc)}
        )
