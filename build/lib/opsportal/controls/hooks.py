"""How higher apps take part in control changes without controls knowing them.

Controls sits below incidents and drills (docs/DEVELOPING.md "Layers"). What happens
to an incident when the kill switch trips or the mode changes is the incidents app's
business; it registers here from its `AppConfig.ready()`:

- **Control listeners** — `register_control_listener(listener)`. After every kill
  switch or mode change, inside the change's transaction, controls calls each
  listener with a `ControlChange`. A listener may answer the id of the incident it
  linked the change to (for example the SEV1 it opened for a trigger); controls
  records that id on the history row. Listeners are best effort: each runs in a
  savepoint, and a domain or database error is logged and never undoes the change
  (safety first: a kill must commit whatever happens around it).
- **Incident links** — `register_incident_link(resolver)`. When an operator asks to
  link a change of environment E to incident #N, `resolver(user, N, E)` answers N if
  that incident is open, the user may see it and it is about E (or no environment),
  else None; it may raise ValidationFailed (field "incident") to say why. With no
  resolver registered every link is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, transaction

from opsportal.core.errors import DomainError, ValidationFailed

if TYPE_CHECKING:
    from opsportal.controls.models import Environment

logger = logging.getLogger(__name__)

# ControlChange.kind values: the audit event type of the change.
TRIGGERED = "kill_switch.triggered"
TRIGGER_REPEATED = "kill_switch.trigger_repeated"
RECOVERY_STARTED = "kill_switch.recovery_started"
RECOVERY_COMPLETED = "kill_switch.recovery_completed"
WENT_LIVE = "mode.went_live"
ROLLED_BACK = "mode.rolled_back"


@dataclass(frozen=True)
class ControlChange:
    """One committed-with-its-transaction change of an environment's controls.

    kind: one of the constants above. summary: one sentence for people (timelines).
    incident_id: the incident the change is already linked to (asked for by the
    operator, or the one linked to the trigger a recovery follows), or None.
    metadata: JSON values identifying the history row (`{"event": pk}` or
    `{"mode_change": pk}`, plus the environment's slug and version).
    """

    kind: str
    environment: Environment
    actor: Any
    summary: str
    metadata: dict[str, Any] = field(default_factory=dict)
    reason_code: str = ""
    note: str = ""
    is_drill: bool = False
    incident_id: int | None = None


ControlListener = Callable[[ControlChange], "int | None"]
IncidentLinkResolver = Callable[[Any, int, "Environment"], "int | None"]

_LISTENERS: list[ControlListener] = []
_LINK_RESOLVER: list[IncidentLinkResolver] = []


def register_control_listener(listener: ControlListener) -> None:
    """Call `listener(change)` after every control change (idempotent)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def register_incident_link(resolver: IncidentLinkResolver) -> None:
    """Set the one resolver of operator-requested incident links (replaces any)."""
    _LINK_RESOLVER[:] = [resolver]


def resolve_incident_link(
    user: Any, incident_id: int | None, *, environment: Environment
) -> int | None:
    """The incident `user` asked to link a change of `environment` to: None for none,
    `incident_id` when the registered resolver accepts it. Raises ValidationFailed
    (field "incident") when it does not (unknown, not open, not visible to the user,
    about another environment: a kill of X linked to Y's incident would open no SEV1
    for X). `user` None is the system (no visibility check)."""
    if incident_id is None:
        return None
    accepted = _LINK_RESOLVER[0](user, incident_id, environment) if _LINK_RESOLVER else None
    if accepted is None:
        raise ValidationFailed(f"No open incident #{incident_id}.", field="incident")
    return accepted


def notify_control_change(change: ControlChange) -> int | None:
    """Run every listener on `change`; returns the incident id the first listener
    linked (or `change.incident_id`). Call inside the change's transaction. Never
    raises for a listener's DomainError or DatabaseError: those are logged."""
    linked = change.incident_id
    for listener in _LISTENERS:
        try:
            with transaction.atomic():
                answer = listener(change)
        except (DomainError, DatabaseError) as exc:  # noqa: PERF203 - best effort, see above
            logger.error(
                "controls.listener_failed",
                extra={
                    "kind": change.kind,
                    "environment": change.environment.slug,
                    "listener": getattr(listener, "__qualname__", repr(listener)),
                    "error": repr(exc),
                },
            )
            continue
        if linked is None and answer is not None:
            linked = answer
    return linked
