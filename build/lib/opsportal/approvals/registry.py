"""The registry of actions that need four-eyes approval.

An app that owns a dangerous action registers it once, from its `AppConfig.ready()`:

    register_action(ActionSpec(
        action="live_transition",
        label="Go live (DRY_RUN -> LIVE)",
        target_model="controls.environment",
        request_permission="controls.request_live_transition",
        preconditions=live_transition_preconditions,
        execute=live_transition_execute,
    ))

Who may *request* the action is declared with it (`request_permission`) and the
engine checks it on every request, whatever the path (browser, the generic
`/api/v1/approvals/` API, the owning app's endpoints, commands, the shell): an
action's own endpoint and the generic API cannot disagree.

The engine evaluates `preconditions(target, payload)` when a request is made (every
check must pass), shows them live on the request page, and evaluates them again
after the final approval, just before `execute(target, payload, request)` runs. The
policy (how many approvers, from which groups, expiry) is data: `ApprovalPolicy`,
editable by admins, copied onto each request when it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsportal.approvals.models import ApprovalRequest


DEFAULT_DECIDE_PERMISSION = "approvals.decide_approvalrequest"


@dataclass(frozen=True)
class PreconditionResult:
    """One check, shown to people as a pass/fail line.

    code: stable identifier ("kill_switch_active"); label: the sentence shown
    ("Kill switch is ACTIVE"); passed: the outcome now; detail: why, when useful.
    """

    code: str
    label: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """An action the engine can approve and execute.

    action: the name, also the `ApprovalPolicy.action` that governs it.
    label: shown to people ("Resume trading after a kill").
    target_model: "app_label.model" of the object acted on.
    request_permission: the permission ("app_label.codename", or a tuple of them:
        all needed) a user must hold to request the action; the engine refuses
        anyone else (NotPermitted "not_permitted_to_request", audited as
        `approval.refused`). Required: an action nobody declared who may request
        is a programming error, not an open door.
    preconditions: `(target, payload) -> list[PreconditionResult]`; no side effects.
    execute: `(target, payload, request) -> dict | None`, the side effect. It runs
        inside the approval transaction, in a savepoint, after the request row (and
        the target row) are locked and the request is `executing`. Raise a
        `DomainError` to fail cleanly (the request becomes `failed` with the message
        and every write `execute` made is rolled back); the dict returned is stored
        on the request as its result. Queue tasks with `transaction.on_commit`.
    target_lookup: optional `(key: str) -> target | None`, so API callers can name
        the target by a natural key (an environment slug) instead of its id.
    decide_permission: the permission (or tuple: all needed) an approver must hold
        besides membership of an eligible group. A policy may name as eligible only
        roles that hold it (`approval_policy_save`), so a role that may change
        nothing (auditor) can never approve.
    """

    action: str
    label: str
    target_model: str
    request_permission: str | tuple[str, ...]
    preconditions: Callable[[Any, dict], list[PreconditionResult]]
    execute: Callable[[Any, dict, ApprovalRequest], dict | None]
    target_lookup: Callable[[str], Any] | None = None
    decide_permission: str | tuple[str, ...] = DEFAULT_DECIDE_PERMISSION


_ACTIONS: dict[str, ActionSpec] = {}


def register_action(spec: ActionSpec) -> None:
    """Register `spec`. Registering an equal spec again is a no-op; another spec
    under a name already taken is a programming error (ValueError)."""
    existing = _ACTIONS.get(spec.action)
    if existing is not None and existing != spec:
        raise ValueError(f"approval action {spec.action!r} is already registered")
    if not spec.request_permission or not all(
        isinstance(p, str) and p.count(".") == 1 for p in request_permissions(spec)
    ):
        raise ValueError(
            f"action {spec.action!r} must declare request_permission as 'app_label.codename'"
        )
    if spec.target_model.count(".") != 1 or spec.target_model != spec.target_model.lower():
        raise ValueError(f"target_model must be 'app_label.model', got {spec.target_model!r}")
    _ACTIONS[spec.action] = spec


def request_permissions(spec: ActionSpec) -> tuple[str, ...]:
    """The permissions a requester of `spec`'s action must hold (all of them)."""
    perm = spec.request_permission
    return (perm,) if isinstance(perm, str) else tuple(perm)


def decide_permissions(action: str) -> tuple[str, ...]:
    """The permissions an approver of `action` must hold (all of them); the default
    for an action no app registered."""
    spec = _ACTIONS.get(action)
    perm = spec.decide_permission if spec else DEFAULT_DECIDE_PERMISSION
    return (perm,) if isinstance(perm, str) else tuple(perm)


def get_action(action: str) -> ActionSpec:
    """The registered spec for `action`; KeyError if none is registered."""
    try:
        return _ACTIONS[action]
    except KeyError:
        raise KeyError(f"no approval action {action!r} is registered") from None


def all_actions() -> list[ActionSpec]:
    return sorted(_ACTIONS.values(), key=lambda s: s.action)
