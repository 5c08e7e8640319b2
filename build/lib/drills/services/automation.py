"""Automated kill-switch timing for drill runs: the portal triggers the
environment's kill switch with reason `drill`, polls its own gate the way an engine
does and records the measured seconds (ops-drills-and-rollback-evidence.md: kill
switch response under 10 s; live-trading runbook 4.5)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from drills.models.runs import (
    DrillRun,
    DrillStepResult,
)
from drills.selectors import (
    AUTOMATED_PROCEDURES,
    automation_kind,
)
from drills.services._common import lock_run, require_crew
from drills.services.recording import drill_step_record
from opsportal.audit.services import service_entry_point
from opsportal.controls.models import KillSwitchEvent
from opsportal.controls.selectors import gate_decision
from opsportal.controls.services import kill_switch_recover_in_transaction, kill_switch_trigger
from opsportal.core.errors import Conflict, DomainError, NotFound, ValidationFailed

logger = logging.getLogger(__name__)

# Automated timing: how often the portal reads its own gate, and how long it waits
# for HALT / ALLOW before recording the step as failed. An engine polls at least
# this often; 20 ms keeps the measurement resolution well under the 1 s target of
# the verification procedure while costing one cache read per poll.
GATE_POLL_INTERVAL_SECONDS = 0.02
GATE_WAIT_MAX_SECONDS = 30.0
# A "triggering" claim older than this is considered abandoned (process died).
_CLAIM_STALE_SECONDS = 120


@service_entry_point
def drill_step_trigger_automated(
    *, result_id: int, actor: Any, confirm_live: bool = False
) -> DrillStepResult:
    """Trigger the environment's kill switch for a drill and time it to HALT.

    For the trigger step of the kill-switch drill or verification: calls
    `controls.services.kill_switch_trigger(reason_code="drill")` (a drill trigger
    opens no incident), then reads the environment's gate through
    `controls.selectors.gate_decision(slug)` every `GATE_POLL_INTERVAL_SECONDS`
    until it answers HALT, for at most `GATE_WAIT_MAX_SECONDS`. That selector reads
    the same committed environment row (no cache) and applies the same `decide()`
    as the gate endpoint, so it sees what an engine's next poll sees. We call it
    rather than GET our own HTTP endpoint because a request to ourselves from
    inside a request can deadlock a single-worker server and would need an engine
    token; the HTTP layer (token check) holds no state of its own. The measured
    seconds (monotonic clock, trigger call → first HALT read) are recorded on the
    step: pass iff within the target; no HALT in time is a fail.

    An entry point, called outside any transaction: it claims the step, triggers and
    records in transactions of its own (the trigger must commit for engines to see
    it). Raises Conflict when the step is not a trigger step,
    the run is not in progress, the kill switch is not ACTIVE or a trigger for
    this step is already running; ValidationFailed (confirm_live) for a LIVE
    environment without explicit confirmation.
    """
    with transaction.atomic(durable=True):
        result = DrillStepResult.objects.filter(pk=result_id).only("run_id").first()
        if result is None:
            raise NotFound("No such step.", field="step")
        run = lock_run(result.run_id)
        require_crew(run, actor)
        result = (
            DrillStepResult.objects.select_for_update().select_related("step").get(pk=result_id)
        )
        _check_automatable(run, result, "trigger", actor, confirm_live)
        env = run.environment
        if env.kill_switch != "ACTIVE":
            raise Conflict(
                f"The kill switch of {env.slug} is {env.kill_switch}; it must be ACTIVE to "
                "time a trigger. Complete the recovery first.",
                code="kill_switch_not_active",
            )
        claim = result.measurement.get("claimed_at")
        if claim and (time.time() - float(claim)) < _CLAIM_STALE_SECONDS:
            raise Conflict("An automated trigger for this step is already running.")
        result.measurement = {**result.measurement, "claimed_at": time.time()}
        result.save(update_fields=["measurement"])

    started_at = timezone.now()
    t0 = time.monotonic()
    try:
        kill_switch_trigger(
            environment=env,
            actor=actor,
            reason_code="drill",
            note=f"Drill #{run.pk}, step {result.position}: automated trigger timing",
        )
    except DomainError:
        with transaction.atomic(durable=True):
            claimed = DrillStepResult.objects.select_for_update().get(pk=result_id)
            claimed.measurement = {
                k: v for k, v in claimed.measurement.items() if k != "claimed_at"
            }
            claimed.save(update_fields=["measurement"])
        raise
    decision, polls = _poll_gate(gate_decision, env.slug, want="HALT")
    elapsed = time.monotonic() - t0
    seconds = Decimal(str(round(elapsed, 3)))
    halted = decision is not None and decision.decision == "HALT"
    measurement = {
        "method": "gate_decision poll",
        "poll_interval_seconds": GATE_POLL_INTERVAL_SECONDS,
        "polls": polls,
        "decision": decision.decision if decision else None,
        "gate_version": getattr(decision, "version", None),
        "reason_code": getattr(decision, "reason_code", None),
    }
    observations = (
        f"Automated: kill switch triggered by the portal (reason drill); gate answered "
        f"HALT after {seconds} s ({polls} gate read{'' if polls == 1 else 's'})."
        if halted
        else f"Automated: gate did not answer HALT within {GATE_WAIT_MAX_SECONDS} s."
    )
    logger.info(
        "drill.trigger_timed",
        extra={"run": run.pk, "environment": env.slug, "seconds": float(seconds), "halted": halted},
    )
    return drill_step_record(
        result_id=result_id,
        actor=actor,
        outcome="pass" if halted else "fail",
        measured_seconds=seconds,
        started_at=started_at,
        ended_at=started_at + dt.timedelta(seconds=elapsed),
        observations=observations,
        automated=True,
        measurement=measurement,
    )


def _poll_gate(gate_decision: Any, slug: str, *, want: str) -> tuple[Any, int]:
    deadline = time.monotonic() + GATE_WAIT_MAX_SECONDS
    polls = 0
    decision = None
    while True:
        decision = gate_decision(slug)
        polls += 1
        if decision.decision == want or time.monotonic() >= deadline:
            return decision, polls
        time.sleep(GATE_POLL_INTERVAL_SECONDS)


@service_entry_point
def drill_step_start_recovery(*, result_id: int, actor: Any, confirm_live: bool = False) -> Any:
    """Start the kill-switch recovery for the recovery step of a drill: calls
    `controls.services.kill_switch_recover`, which opens the resume approval
    request a risk officer must approve (four-eyes). Returns that request.
    The step is timed by `drill_step_record_recovery` once recovery completes."""
    with transaction.atomic(durable=True):
        result = DrillStepResult.objects.filter(pk=result_id).only("run_id").first()
        if result is None:
            raise NotFound("No such step.", field="step")
        run = lock_run(result.run_id)
        require_crew(run, actor)
        result = DrillStepResult.objects.select_related("step").get(pk=result_id)
        _check_automatable(run, result, "recovery", actor, confirm_live)
        return kill_switch_recover_in_transaction(
            environment=run.environment,
            actor=actor,
            reason=f"Drill #{run.pk}: recovery after the drill trigger.",
        )


@service_entry_point
def drill_step_record_recovery(
    *, result_id: int, actor: Any, confirm_live: bool = False
) -> DrillStepResult:
    """Record the recovery time for the recovery step.

    Once the environment's kill switch is ACTIVE again (recovery completed through
    the resume approval), the portal reads its gate (until it answers ALLOW, at
    most `GATE_WAIT_MAX_SECONDS`) and measures from the recovery start to the
    recovery completion, both taken from the environment's kill-switch history
    (the completion is the moment the gate's next read answers ALLOW). Pass iff
    the gate answers ALLOW and the time is within the step's target.

    Raises Conflict when no recovery was started after this run began, or it has
    not completed yet (still waiting for the risk officer's approval). An entry point:
    reads in a transaction of its own, then records with `drill_step_record`.
    """
    with transaction.atomic(durable=True):
        result = DrillStepResult.objects.filter(pk=result_id).only("run_id").first()
        if result is None:
            raise NotFound("No such step.", field="step")
        run = lock_run(result.run_id)
        require_crew(run, actor)
        result = DrillStepResult.objects.select_related("step").get(pk=result_id)
        _check_automatable(run, result, "recovery", actor, confirm_live)
        env = run.environment
        events = KillSwitchEvent.objects.filter(environment=env, occurred_at__gte=run.started_at)
        started = events.filter(kind="recovery_started").order_by("-occurred_at").first()
        if started is None:
            raise Conflict(
                "No recovery has been started on this environment since the drill began.",
                code="recovery_not_started",
            )
        completed = (
            events.filter(kind="recovery_completed", occurred_at__gte=started.occurred_at)
            .order_by("occurred_at")
            .first()
        )
        if completed is None or env.kill_switch != "ACTIVE":
            raise Conflict(
                f"Recovery has not completed yet: the kill switch is {env.kill_switch}. "
                "A risk officer must approve the resume request first.",
                code="recovery_pending",
            )
    decision, polls = _poll_gate(gate_decision, env.slug, want="ALLOW")
    allowed = decision.decision == "ALLOW"
    elapsed = (completed.occurred_at - started.occurred_at).total_seconds()
    return drill_step_record(
        result_id=result_id,
        actor=actor,
        outcome="pass" if allowed else "fail",
        measured_seconds=Decimal(str(round(elapsed, 3))),
        started_at=started.occurred_at,
        ended_at=completed.occurred_at,
        observations=(
            f"Automated: recovery started {started.occurred_at:%H:%M:%S} UTC by "
            f"{started.actor or 'system'}, completed {completed.occurred_at:%H:%M:%S} UTC; "
            f"gate answers {decision.decision}."
        ),
        automated=True,
        measurement={
            "method": "kill-switch history + gate_decision",
            "recovery_started_event": started.pk,
            "recovery_completed_event": completed.pk,
            "approval_request": completed.approval_request_id,
            "decision": decision.decision,
            "gate_version": getattr(decision, "version", None),
            "polls": polls,
        },
    )


def _check_automatable(
    run: DrillRun, result: DrillStepResult, kind: str, actor: Any, confirm_live: bool
) -> None:
    if run.state != DrillRun.State.IN_PROGRESS:
        raise Conflict("Automated timing runs only while the drill is in progress.")
    if run.procedure_version.procedure.slug not in AUTOMATED_PROCEDURES or (
        automation_kind(run.procedure_version.procedure.slug, result.step) != kind
    ):
        raise Conflict(f"This step has no automated {kind} timing.", code="not_automatable")
    if run.environment.mode == "LIVE" and not confirm_live:
        raise ValidationFailed(
            f"{run.environment.slug} is LIVE: confirm explicitly that you are acting on a "
            "live trading environment.",
            code="live_confirmation_required",
            field="confirm_live",
        )
