"""The two four-eyes actions controls registers with the approvals engine
(`ControlsConfig.ready`): `live_transition` and `kill_switch_resume`."""

from __future__ import annotations

from typing import Any

from opsportal.approvals.registry import ActionSpec, PreconditionResult, register_action
from opsportal.controls import services
from opsportal.controls.models import Environment
from opsportal.controls.preconditions import evaluate_live_preconditions


def _fresh(target: Environment) -> Environment:
    # The engine passes the row it locked; read it again so a check never sees a
    # stale instance.
    return Environment.objects.get(pk=target.pk)


def _approver(request: Any) -> Any:
    """The user whose approval completed the request (the latest approval)."""
    decision = (
        request.decisions.filter(decision="approve")
        .select_related("approver")
        .order_by("-at", "-pk")
        .first()
    )
    return decision.approver if decision else None


def live_transition_preconditions(target: Environment, payload: dict) -> list[PreconditionResult]:
    return evaluate_live_preconditions(_fresh(target), payload.get("attestations"))


def live_transition_execute(target: Environment, payload: dict, request: Any) -> dict:
    change = services.mode_go_live_in_transaction(
        environment=target,
        actor=_approver(request),
        approval_request_id=request.pk,
        reason=request.reason,
    )
    return {"mode": change.to_mode, "mode_change": change.pk, "version": change.version}


def kill_switch_resume_preconditions(
    target: Environment, payload: dict
) -> list[PreconditionResult]:
    env = _fresh(target)
    return [
        PreconditionResult(
            "kill_switch_recovering",
            "Kill switch is RECOVERING",
            env.kill_switch == Environment.KillSwitch.RECOVERING,
            f"kill switch is {env.kill_switch}",
        )
    ]


def kill_switch_resume_execute(target: Environment, payload: dict, request: Any) -> dict:
    event = services.kill_switch_recovery_complete_in_transaction(
        environment=target, actor=_approver(request), approval_request_id=request.pk
    )
    return {"kill_switch": event.to_state, "event": event.pk, "version": event.version}


def _lookup(slug: str) -> Environment | None:
    return Environment.objects.filter(slug=slug).first()


def register() -> None:
    register_action(
        ActionSpec(
            action=services.ACTION_LIVE_TRANSITION,
            label="Go live (DRY_RUN → LIVE)",
            target_model="controls.environment",
            request_permission="controls.request_live_transition",
            preconditions=live_transition_preconditions,
            execute=live_transition_execute,
            target_lookup=_lookup,
        )
    )
    register_action(
        ActionSpec(
            action=services.ACTION_KILL_SWITCH_RESUME,
            label="Resume trading after a kill",
            target_model="controls.environment",
            # Requested by whoever starts the recovery (kill_switch_recover).
            request_permission="controls.recover_killswitch",
            preconditions=kill_switch_resume_preconditions,
            execute=kill_switch_resume_execute,
            target_lookup=_lookup,
        )
    )
