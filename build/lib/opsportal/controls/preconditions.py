"""Preconditions of the DRY_RUN → LIVE transition: a registry.

Each precondition is a named check of the environment that answers one pass/fail
line (`PreconditionResult`). The `live_transition` approval action evaluates all of
them when the request is made and again when it executes. Later issues add theirs
from their own app's `AppConfig.ready()` without touching this module::

    from opsportal.controls.preconditions import register_live_precondition

    register_live_precondition(
        "kill_switch_drilled", "Kill switch drilled within 24 h", check_drilled
    )

where `check_drilled(environment) -> PreconditionResult`. A check must not write and
should cost at most one query.

The manual pre-live checklist (live-trading runbook section 1) is not a registered
check of the environment: it is what the requester attests in the request's payload,
evaluated by `pre_live_checklist_result`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from opsportal.approvals.registry import PreconditionResult
from opsportal.core.formatting import human_duration
from opsportal.library.models import ProcedureVersion

if TYPE_CHECKING:
    from opsportal.controls.models import Environment

PRE_LIVE_PROCEDURE = "pre-live-checklist"


@dataclass(frozen=True)
class LivePrecondition:
    code: str
    label: str
    check: Callable[[Environment], PreconditionResult]


_REGISTRY: dict[str, LivePrecondition] = {}


def register_live_precondition(
    code: str, label: str, check: Callable[[Environment], PreconditionResult]
) -> None:
    """Add a precondition of the live transition (idempotent for the same code and
    label; re-registering a code replaces its check, so a module reload is harmless)."""
    existing = _REGISTRY.get(code)
    if existing and existing.label != label:
        raise ValueError(f"live precondition {code!r} registered twice with different labels")
    _REGISTRY[code] = LivePrecondition(code=code, label=label, check=check)


def live_preconditions() -> list[LivePrecondition]:
    return list(_REGISTRY.values())


def evaluate_live_preconditions(
    environment: Environment, attestations: dict[str, Any] | None
) -> list[PreconditionResult]:
    """Every registered check of `environment`, then the requester's attestations."""
    results = [p.check(environment) for p in _REGISTRY.values()]
    results.append(pre_live_checklist_result(attestations))
    return results


# --- the pre-live checklist (payload) ---


@dataclass(frozen=True)
class AttestationItem:
    key: str  # the step position, as a string: the key in the payload's attestations
    title: str
    instruction: str


def pre_live_checklist_items() -> tuple[int | None, list[AttestationItem]]:
    """(procedure version, items) of the published pre-live checklist; (None, []) when
    the library has no published version."""
    version = (
        ProcedureVersion.objects.filter(
            procedure__slug=PRE_LIVE_PROCEDURE, status=ProcedureVersion.Status.PUBLISHED
        )
        .prefetch_related("steps")
        .first()
    )
    if version is None:
        return None, []
    return version.version, [
        AttestationItem(key=str(step.position), title=step.title, instruction=step.instruction)
        for step in version.steps.all()
    ]


def pre_live_checklist_result(attestations: dict[str, Any] | None) -> PreconditionResult:
    label = "Pre-live checklist attested item by item by the requester"
    _, items = pre_live_checklist_items()
    if not items:
        return PreconditionResult(
            "pre_live_checklist",
            label,
            False,
            f"The procedure library has no published '{PRE_LIVE_PROCEDURE}'.",
        )
    given = attestations or {}
    missing = [item for item in items if given.get(item.key) is not True]
    if missing:
        names = "; ".join(f"{m.key}. {m.title}" for m in missing)
        return PreconditionResult(
            "pre_live_checklist", label, False, f"{len(missing)} not attested: {names}"
        )
    return PreconditionResult("pre_live_checklist", label, True, f"{len(items)} items attested")


# --- the built-in checks ---


def _seconds(value: float) -> str:
    return human_duration(value)


def check_mode_dry_run(environment: Environment) -> PreconditionResult:
    ok = environment.mode == environment.Mode.DRY_RUN
    return PreconditionResult(
        "mode_dry_run", "Environment is in DRY_RUN", ok, f"mode is {environment.mode}"
    )


def check_kill_switch_active(environment: Environment) -> PreconditionResult:
    ok = environment.kill_switch == environment.KillSwitch.ACTIVE
    return PreconditionResult(
        "kill_switch_active", "Kill switch ACTIVE", ok, f"kill switch is {environment.kill_switch}"
    )


def check_dry_run_duration(environment: Environment) -> PreconditionResult:
    needed = int(settings.OPSPORTAL_MIN_DRY_RUN_SECONDS)
    label = f"At least {_seconds(needed)} in DRY_RUN (runbook 1.6.4)"
    since = environment.dry_run_since
    if environment.mode != environment.Mode.DRY_RUN or since is None:
        return PreconditionResult("dry_run_duration", label, False, "not in DRY_RUN")
    elapsed = (timezone.now() - since).total_seconds()
    if elapsed < needed:
        return PreconditionResult(
            "dry_run_duration",
            label,
            False,
            f"{_seconds(elapsed)} in DRY_RUN so far; {_seconds(needed - elapsed)} to go",
        )
    return PreconditionResult("dry_run_duration", label, True, f"{_seconds(elapsed)} in DRY_RUN")


def check_no_recent_rollback(environment: Environment) -> PreconditionResult:
    block = int(settings.OPSPORTAL_ROLLBACK_BLOCK_SECONDS)
    label = f"No rollback in the last {_seconds(block)}"
    last = environment.last_rollback_at
    if last is None:
        return PreconditionResult("no_recent_rollback", label, True, "never rolled back")
    elapsed = (timezone.now() - last).total_seconds()
    if elapsed < block:
        return PreconditionResult(
            "no_recent_rollback",
            label,
            False,
            f"rolled back {_seconds(elapsed)} ago; LIVE blocked for {_seconds(block - elapsed)}",
        )
    return PreconditionResult(
        "no_recent_rollback", label, True, f"last rollback {_seconds(elapsed)} ago"
    )


register_live_precondition("mode_dry_run", "Environment is in DRY_RUN", check_mode_dry_run)
register_live_precondition("kill_switch_active", "Kill switch ACTIVE", check_kill_switch_active)
register_live_precondition("dry_run_duration", "Minimum time in DRY_RUN", check_dry_run_duration)
register_live_precondition("no_recent_rollback", "No recent rollback", check_no_recent_rollback)
