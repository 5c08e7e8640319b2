"""Recording a drill run: step outcomes and timings, and the follow-ups (action
items) for issues found. Both are part of the signed record (ops-drills-and-rollback-
evidence.md, execution record): changing them after someone signed voids the run's
sign-offs, since the signed content no longer hashes the same.

Every service here is an entry point that owns its transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from drills.models.runs import DrillActionItem, DrillRun, DrillStepResult
from drills.services._common import lock_run, refresh_result, require_crew, user_or_none
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, NotFound, ValidationFailed
from opsportal.core.text import NOTE_MAX, REASON_MAX, text_within

logger = logging.getLogger(__name__)


def _parse_seconds(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        seconds = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            "Measured seconds must be a number.", field="measured_seconds"
        ) from None
    if not seconds.is_finite() or seconds < 0:
        raise ValidationFailed("Measured seconds must be zero or more.", field="measured_seconds")
    return seconds


@service_entry_point
def drill_step_record(
    *,
    result_id: int,
    actor: Any,
    outcome: str,
    measured_seconds: Decimal | float | str | None = None,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    observations: str = "",
    evidence_links: Iterable[str] = (),
    skip_reason: str = "",
    automated: bool = False,
    measurement: dict[str, Any] | None = None,
) -> DrillStepResult:
    """Record (or correct) the outcome of one step.

    Args:
        outcome: "pass", "fail" or "skipped" (skipped needs `skip_reason`).
        measured_seconds: the measured duration in seconds; when omitted it is
            taken from `ended_at - started_at`. Stored as `measured_ms`.
        evidence_links: URLs (http/https) of screenshots, logs, dashboards.

    A step with a time target needs a measurement to pass, and passes only if the
    measurement is within the target: a claimed "pass" over target is recorded as
    "fail" with the reason in `outcome_reason` (the runbook's < 10 s rule).
    Correcting a step after someone signed the run voids the run's sign-offs.

    Raises Conflict unless the run is in progress or completed (not yet signed
    off), ValidationFailed for bad input, NotPermitted for someone not in the crew.
    """
    if outcome not in {"pass", "fail", "skipped"}:
        raise ValidationFailed("Outcome must be pass, fail or skipped.", field="outcome")
    seconds = _parse_seconds(measured_seconds)
    if started_at and ended_at and ended_at < started_at:
        raise ValidationFailed("The step cannot end before it started.", field="ended_at")
    if seconds is None and started_at and ended_at:
        seconds = Decimal((ended_at - started_at).total_seconds())
    if outcome == "skipped" and not skip_reason.strip():
        raise ValidationFailed("Say why the step was skipped.", field="skip_reason")
    text_within(skip_reason, limit=REASON_MAX, field="skip_reason", label="The reason")
    text_within(observations, limit=NOTE_MAX, field="observations", label="The observations")
    links = [link.strip() for link in evidence_links if link and link.strip()]
    for link in links:
        if not link.startswith(("https://", "http://")) or len(link) > 500:
            raise ValidationFailed(f"Not a web link: {link[:80]}", field="evidence_links")
    with transaction.atomic(durable=True):
        result = DrillStepResult.objects.filter(pk=result_id).only("run_id").first()
        if result is None:
            raise NotFound("No such step.", field="step")
        run = lock_run(result.run_id)
        require_crew(run, actor)
        if run.state not in {DrillRun.State.IN_PROGRESS, DrillRun.State.COMPLETED}:
            raise Conflict(
                f"Steps are recorded while the drill is in progress or completed, not "
                f"{run.get_state_display().lower()}.",
                code="not_recording",
            )
        result = (
            DrillStepResult.objects.select_for_update().select_related("step").get(pk=result_id)
        )
        target = result.step.time_target_seconds
        reason = ""
        final = outcome
        measured_ms = None if seconds is None else int((seconds * 1000).to_integral_value())
        if outcome == "pass" and target is not None:
            if measured_ms is None:
                raise ValidationFailed(
                    f"This step has a {target} s target: record the measured seconds.",
                    field="measured_seconds",
                )
            if measured_ms > target * 1000:
                final = "fail"
                reason = f"Measured {measured_ms / 1000:.3f} s exceeds the {target} s target."
        before = _result_snapshot(result)
        was_recorded = result.outcome != DrillStepResult.Outcome.PENDING
        result.outcome = final
        result.outcome_reason = reason
        result.skip_reason = skip_reason.strip() if outcome == "skipped" else ""
        result.measured_ms = measured_ms
        result.started_at = started_at
        result.ended_at = ended_at
        result.observations = observations.strip()
        result.evidence_links = links
        result.automated = automated
        result.measurement = measurement or {}
        result.performed_by = actor
        result.recorded_by = actor
        result.recorded_at = timezone.now()
        result.save(
            update_fields=[
                "outcome",
                "outcome_reason",
                "skip_reason",
                "measured_ms",
                "started_at",
                "ended_at",
                "observations",
                "evidence_links",
                "automated",
                "measurement",
                "performed_by",
                "recorded_by",
                "recorded_at",
            ]
        )
        after = _result_snapshot(result)
        audit_record(
            actor=actor,
            event_type="drill_run.step_recorded",
            obj=run,
            before=before if was_recorded else None,
            after={"position": result.position, **after},
        )
        refresh_result(run)
    return result


def _result_snapshot(result: DrillStepResult) -> dict[str, Any]:
    return {
        "outcome": result.outcome,
        "outcome_reason": result.outcome_reason,
        "skip_reason": result.skip_reason,
        "measured_ms": result.measured_ms,
        "started_at": result.started_at.isoformat() if result.started_at else None,
        "ended_at": result.ended_at.isoformat() if result.ended_at else None,
        "observations": result.observations,
        "evidence_links": list(result.evidence_links),
    }


# ----------------------------------------------------------------- action items


@service_entry_point
def drill_action_item_add(
    *,
    run_id: int,
    actor: Any,
    title: str,
    owner: Any,
    due_on: dt.date,
    step_result_id: int | None = None,
) -> DrillActionItem:
    """Add a follow-up for an issue found in the drill. Part of the signed record:
    adding one after someone signed voids the run's sign-offs. Raises Conflict on
    a signed-off or aborted run."""
    if not title.strip():
        raise ValidationFailed("Describe the follow-up.", field="title")
    if owner is None:
        raise ValidationFailed("Name the owner.", field="owner")
    if due_on is None:
        raise ValidationFailed("Give a due date.", field="due_on")
    with transaction.atomic(durable=True):
        run = lock_run(run_id)
        require_crew(run, actor)
        if run.state not in {DrillRun.State.IN_PROGRESS, DrillRun.State.COMPLETED}:
            raise Conflict("Issues are recorded while the drill is in progress or completed.")
        step_result = None
        if step_result_id is not None:
            step_result = run.step_results.filter(pk=step_result_id).first()
            if step_result is None:
                raise ValidationFailed("That step is not part of this drill.", field="step")
        item = DrillActionItem.objects.create(
            run=run,
            step_result=step_result,
            title=title.strip()[:300],
            owner=owner,
            due_on=due_on,
            created_by=user_or_none(actor),
        )
        audit_record(
            actor=actor,
            event_type="drill_run.action_item_added",
            obj=run,
            after={
                "item": item.pk,
                "title": item.title,
                "owner": owner.get_username(),
                "due_on": due_on,
            },
        )
        refresh_result(run)
    return item


@service_entry_point
def drill_action_item_set_status(*, item_id: int, actor: Any, status: str) -> DrillActionItem:
    """Move a follow-up to open/done/cancelled. The status is tracked after the
    drill and is not part of the signed content. The owner, the run's lead, or a
    drill operator may change it."""
    if status not in DrillActionItem.Status.values:
        raise ValidationFailed("Unknown status.", field="status")
    with transaction.atomic(durable=True):
        item = DrillActionItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound("No such action item.")
        if item.status == status:
            return item
        before = {"status": item.status}
        item.status = status
        item.closed_at = None if status == DrillActionItem.Status.OPEN else timezone.now()
        item.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            event_type="drill_run.action_item_updated",
            obj=item.run,
            before=before,
            after={"item": item.pk, "status": status},
        )
    return item
