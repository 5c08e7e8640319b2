"""Writes for drill runs: planning, the pre-drill checklist, start, complete and abort.
Recording steps and follow-ups is in recording.py, the sign-off rules in signing.py.

Every service here is an entry point that owns its transaction
(`transaction.atomic(durable=True)`), locks the run it changes, calls the
django-fsm-2 transition, saves with `update_fields` and writes the audit event in the
same transaction.

Source: ops-drills-and-rollback-evidence.md (kill switch drill, execution record,
sign-off), incident-response-playbook-sev-levels.md §9 (schedule), live-trading
runbook §4 (kill switch verification).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from drills.models.runs import (
    DrillPreCheckItem,
    DrillRun,
    DrillSchedule,
    DrillStepResult,
)
from drills.selectors import derive_run_result
from drills.services._common import lock_run, require_crew, user_or_none
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, NotFound, ValidationFailed
from opsportal.core.text import NOTE_MAX, REASON_MAX, text_within
from opsportal.library.models import Procedure, ProcedureVersion

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------- planning


@service_entry_point
def drill_run_plan(
    *,
    procedure: Procedure,
    environment: Any,
    lead: Any,
    planned_at: dt.datetime,
    actor: Any,
    observer: Any = None,
    participants: Iterable[Any] = (),
    schedule: DrillSchedule | None = None,
    notes: str = "",
) -> DrillRun:
    """Plan a run of the currently published version of `procedure` (pinned).

    Creates the pre-drill checklist items and one pending step result per step.
    Raises NotFound if the procedure has no published version, ValidationFailed if
    the observer is the lead or the schedule is for another procedure/environment.
    """
    text_within(notes, limit=NOTE_MAX, field="notes", label="The notes")
    version = (
        ProcedureVersion.objects.filter(
            procedure=procedure, status=ProcedureVersion.Status.PUBLISHED
        )
        .prefetch_related("steps")
        .first()
    )
    if version is None:
        raise NotFound(
            "This procedure has no published version.",
            code="procedure_not_found",
            field="procedure",
        )
    if observer is not None and observer.pk == lead.pk:
        raise ValidationFailed(
            "The observer must be someone other than the drill lead.", field="observer"
        )
    if schedule is not None and (
        schedule.procedure_id != procedure.pk or schedule.environment_id != environment.pk
    ):
        raise ValidationFailed(
            "The schedule is for another procedure or environment.", field="schedule"
        )
    with transaction.atomic(durable=True):
        run = DrillRun.objects.create(
            schedule=schedule,
            procedure_version=version,
            environment=environment,
            lead=lead,
            observer=observer,
            planned_at=planned_at,
            notes=notes.strip(),
            created_by=user_or_none(actor),
        )
        crew = [p for p in participants if p.pk not in {lead.pk, getattr(observer, "pk", None)}]
        run.participants.set(crew)
        DrillPreCheckItem.objects.bulk_create(
            DrillPreCheckItem(run=run, position=n, text=str(text))
            for n, text in enumerate(version.pre_checklist or [], start=1)
        )
        DrillStepResult.objects.bulk_create(
            DrillStepResult(run=run, step=step, position=step.position)
            for step in version.steps.all()
        )
        audit_record(
            actor=actor,
            event_type="drill_run.planned",
            obj=run,
            after={
                "procedure": procedure.slug,
                "version": version.version,
                "environment": environment.slug,
                "lead": lead.get_username(),
                "observer": observer.get_username() if observer else None,
                "participants": sorted(p.get_username() for p in crew),
                "planned_at": planned_at,
            },
        )
    return run


@service_entry_point
def drill_precheck_tick(*, item_id: int, actor: Any, note: str = "") -> DrillPreCheckItem:
    """Tick a pre-drill checklist item as done by `actor` now. Idempotent. Only
    before the run has started; only by the run's crew (lead, observer,
    participants)."""
    with transaction.atomic(durable=True):
        item = DrillPreCheckItem.objects.filter(pk=item_id).select_related("run").first()
        if item is None:
            raise NotFound("No such checklist item.", field="item")
        run = lock_run(item.run_id)
        require_crew(run, actor)
        item = DrillPreCheckItem.objects.select_for_update().get(pk=item_id)
        if item.done_at is not None:
            return item
        if run.state != DrillRun.State.PLANNED:
            raise Conflict("The pre-drill checklist is closed once the drill has started.")
        item.done_at = timezone.now()
        item.done_by = actor
        item.note = note.strip()
        item.save(update_fields=["done_at", "done_by", "note"])
        audit_record(
            actor=actor,
            event_type="drill_run.precheck_ticked",
            obj=run,
            after={"position": item.position, "note": item.note},
        )
    return item


@service_entry_point
def drill_run_start(*, run_id: int, actor: Any, confirm_live: bool = False) -> DrillRun:
    """Start a planned run: planned → in_progress.

    Raises Conflict if a pre-drill checklist item is open or the run is not
    planned; ValidationFailed (field confirm_live) when the environment is LIVE and
    the actor has not explicitly confirmed running a drill against it (the
    confirmation is recorded on the run and in the audit event).
    """
    with transaction.atomic(durable=True):
        run = lock_run(run_id)
        require_crew(run, actor)
        if run.state == DrillRun.State.IN_PROGRESS:
            return run
        if run.state != DrillRun.State.PLANNED:
            raise Conflict(f"A {run.get_state_display().lower()} drill cannot be started.")
        open_items = run.prechecks.filter(done_at__isnull=True).count()
        if open_items:
            raise Conflict(
                f"Complete the pre-drill checklist first ({open_items} item(s) open).",
                code="precheck_incomplete",
            )
        env = run.environment
        mode = env.mode
        fields = ["state", "started_at", "environment_mode"]
        if mode == "LIVE":
            if not confirm_live:
                raise ValidationFailed(
                    f"{env.slug} is LIVE: confirm explicitly that this drill runs against a "
                    "live trading environment.",
                    code="live_confirmation_required",
                    field="confirm_live",
                )
            run.live_confirmed_by = actor
            run.live_confirmed_at = timezone.now()
            fields += ["live_confirmed_by", "live_confirmed_at"]
        run.start()
        run.started_at = timezone.now()
        run.environment_mode = mode
        run.save(update_fields=fields)
        audit_record(
            actor=actor,
            event_type="drill_run.started",
            obj=run,
            before={"state": "planned"},
            after={"state": run.state, "environment_mode": mode, "live_confirmed": mode == "LIVE"},
        )
    return run


# ------------------------------------------------------------ complete / abort


@service_entry_point
def drill_run_complete(*, run_id: int, actor: Any) -> DrillRun:
    """in_progress → completed. Every step must have an outcome (pass, fail or
    skipped). The result is derived from the steps (never typed). Raises Conflict
    otherwise."""
    with transaction.atomic(durable=True):
        run = lock_run(run_id)
        require_crew(run, actor)
        if run.state == DrillRun.State.COMPLETED:
            return run
        if run.state != DrillRun.State.IN_PROGRESS:
            raise Conflict(f"A {run.get_state_display().lower()} drill cannot be completed.")
        pending = run.step_results.filter(outcome=DrillStepResult.Outcome.PENDING).count()
        if pending:
            raise Conflict(
                f"Record every step first ({pending} step(s) not recorded).",
                code="steps_pending",
            )
        run.complete()
        run.completed_at = timezone.now()
        run.result = derive_run_result(run)
        run.save(update_fields=["state", "completed_at", "result"])
        audit_record(
            actor=actor,
            event_type="drill_run.completed",
            obj=run,
            before={"state": "in_progress"},
            after={"state": run.state, "result": run.result},
        )
    return run


@service_entry_point
def drill_run_abort(*, run_id: int, actor: Any, reason: str) -> DrillRun:
    """planned/in_progress → aborted, with a reason. Raises ValidationFailed without
    a reason, Conflict from any other state. Does not touch the kill switch: if a
    drill trigger left it KILLED, recovery goes through the usual approval."""
    if not reason.strip():
        raise ValidationFailed("Give the reason for aborting.", field="reason")
    text_within(reason, limit=REASON_MAX, field="reason", label="The reason")
    with transaction.atomic(durable=True):
        run = lock_run(run_id)
        require_crew(run, actor)
        if run.state == DrillRun.State.ABORTED:
            return run
        if run.state not in {DrillRun.State.PLANNED, DrillRun.State.IN_PROGRESS}:
            raise Conflict(f"A {run.get_state_display().lower()} drill cannot be aborted.")
        before = run.state
        run.abort()
        run.aborted_at = timezone.now()
        run.abort_reason = reason.strip()
        run.save(update_fields=["state", "aborted_at", "abort_reason"])
        audit_record(
            actor=actor,
            event_type="drill_run.aborted",
            obj=run,
            before={"state": before},
            after={"state": run.state, "reason": run.abort_reason},
        )
    return run
