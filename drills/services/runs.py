"""Writes for drill schedules and drill runs.

Every function here owns its transaction (`transaction.atomic()`, nestable: other
services call these), locks the run it changes, calls the django-fsm-2 transition,
saves with `update_fields` and writes the audit event in the same transaction.

Source: ops-drills-and-rollback-evidence.md (kill switch drill, execution record,
sign-off), incident-response-playbook-sev-levels.md §9 (schedule), live-trading
runbook §4 (kill switch verification).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from drills.models.runs import (
    DrillActionItem,
    DrillPreCheckItem,
    DrillRun,
    DrillSchedule,
    DrillStepResult,
)
from drills.selectors import (
    derive_run_result,
    drill_run_signable_content,
    signoff_roles_for_version,
)
from opsportal.audit.services import audit_record
from opsportal.core.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from opsportal.library.models import Procedure, ProcedureVersion
from opsportal.signoffs.services import (
    SignableAdapter,
    register_signable,
    user_in_group,
    valid_signoffs,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------- planning


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
    with transaction.atomic():
        run = DrillRun.objects.create(
            schedule=schedule,
            procedure_version=version,
            environment=environment,
            lead=lead,
            observer=observer,
            planned_at=planned_at,
            notes=notes.strip(),
            created_by=_user_or_none(actor),
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


def drill_precheck_tick(*, item_id: int, actor: Any, note: str = "") -> DrillPreCheckItem:
    """Tick a pre-drill checklist item as done by `actor` now. Idempotent. Only
    before the run has started; only by the run's crew (lead, observer,
    participants)."""
    with transaction.atomic():
        item = DrillPreCheckItem.objects.filter(pk=item_id).select_related("run").first()
        if item is None:
            raise NotFound("No such checklist item.", field="item")
        run = _lock_run(item.run_id)
        _require_crew(run, actor)
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


def drill_run_start(*, run_id: int, actor: Any, confirm_live: bool = False) -> DrillRun:
    """Start a planned run: planned → in_progress.

    Raises Conflict if a pre-drill checklist item is open or the run is not
    planned; ValidationFailed (field confirm_live) when the environment is LIVE and
    the actor has not explicitly confirmed running a drill against it (the
    confirmation is recorded on the run and in the audit event).
    """
    with transaction.atomic():
        run = _lock_run(run_id)
        _require_crew(run, actor)
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


# --------------------------------------------------------------------- recording


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
    links = [link.strip() for link in evidence_links if link and link.strip()]
    for link in links:
        if not link.startswith(("https://", "http://")) or len(link) > 500:
            raise ValidationFailed(f"Not a web link: {link[:80]}", field="evidence_links")
    with transaction.atomic():
        result = DrillStepResult.objects.filter(pk=result_id).only("run_id").first()
        if result is None:
            raise NotFound("No such step.", field="step")
        run = _lock_run(result.run_id)
        _require_crew(run, actor)
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
        _refresh_result(run)
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
    with transaction.atomic():
        run = _lock_run(run_id)
        _require_crew(run, actor)
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
            created_by=_user_or_none(actor),
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
        _refresh_result(run)
    return item


def drill_action_item_set_status(*, item_id: int, actor: Any, status: str) -> DrillActionItem:
    """Move a follow-up to open/done/cancelled. The status is tracked after the
    drill and is not part of the signed content. The owner, the run's lead, or a
    drill operator may change it."""
    if status not in DrillActionItem.Status.values:
        raise ValidationFailed("Unknown status.", field="status")
    with transaction.atomic():
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


# ------------------------------------------------------------ complete / abort


def drill_run_complete(*, run_id: int, actor: Any) -> DrillRun:
    """in_progress → completed. Every step must have an outcome (pass, fail or
    skipped). The result is derived from the steps (never typed). Raises Conflict
    otherwise."""
    with transaction.atomic():
        run = _lock_run(run_id)
        _require_crew(run, actor)
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


def drill_run_abort(*, run_id: int, actor: Any, reason: str) -> DrillRun:
    """planned/in_progress → aborted, with a reason. Raises ValidationFailed without
    a reason, Conflict from any other state. Does not touch the kill switch: if a
    drill trigger left it KILLED, recovery goes through the usual approval."""
    if not reason.strip():
        raise ValidationFailed("Give the reason for aborting.", field="reason")
    with transaction.atomic():
        run = _lock_run(run_id)
        _require_crew(run, actor)
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


# ----------------------------------------------------------------- sign-offs


class DrillRunSignable(SignableAdapter):
    """Sign-off rules for drill runs (ops-drills-and-rollback-evidence.md,
    "Sign-off requirements"): the roles come from the pinned procedure version;
    drill_lead must be the run's lead, observer the run's observer, risk_officer a
    member of the risk_officer group, second_signer anyone allowed to sign drills.
    A run is signed when completed; the last required sign-off makes it
    signed_off."""

    def content(self, target: DrillRun) -> dict[str, Any]:
        return drill_run_signable_content(target)

    def required_roles(self, target: DrillRun) -> list[str]:
        return signoff_roles_for_version(target.procedure_version)

    def check_can_sign(self, target: DrillRun) -> None:
        if target.state != DrillRun.State.COMPLETED:
            raise Conflict(
                f"Only a completed drill can be signed (this one is "
                f"{target.get_state_display().lower()}).",
                code="not_signable",
            )

    def check_role(self, target: DrillRun, user: Any, role: str) -> None:
        if not user.has_perm("drills.sign_drillrun"):
            raise NotPermitted("You may not sign drill records.", code="wrong_role")
        if role == "drill_lead" and user.pk != target.lead_id:
            raise NotPermitted(
                "Only the run's drill lead can sign as drill lead.", code="wrong_role"
            )
        if role == "observer" and user.pk != target.observer_id:
            raise NotPermitted("Only the run's observer can sign as observer.", code="wrong_role")
        if role == "risk_officer" and not user_in_group(user, "risk_officer"):
            raise NotPermitted("Only a risk officer can sign as risk officer.", code="wrong_role")

    def on_complete(self, target: DrillRun, actor: Any) -> None:
        target.sign_off()
        target.signed_off_at = timezone.now()
        target.save(update_fields=["state", "signed_off_at"])
        audit_record(
            actor=actor,
            event_type="drill_run.signed_off",
            obj=target,
            before={"state": "completed"},
            after={
                "state": target.state,
                "signers": {s.role: s.signer.get_username() for s in valid_signoffs(target)},
            },
        )


register_signable(DrillRun, DrillRunSignable())


# ------------------------------------------------------------------- helpers


def _lock_run(run_id: int) -> DrillRun:
    run = (
        DrillRun.objects.select_for_update(of=("self",))
        .select_related("environment", "procedure_version__procedure")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound("No such drill run.")
    return run


def _require_crew(run: DrillRun, actor: Any) -> None:
    """Only the people on the drill record it (lead, observer, participants)."""
    if actor.pk in {run.lead_id, run.observer_id}:
        return
    if run.participants.filter(pk=actor.pk).exists():
        return
    raise NotPermitted(
        "Only the drill's lead, observer or participants can do this.", code="not_crew"
    )


def _refresh_result(run: DrillRun) -> None:
    result = derive_run_result(run)
    if result != run.result:
        run.result = result
        run.save(update_fields=["result"])


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None
