"""What incidents do when the trading controls change: registered with controls'
hooks in `IncidentsConfig.ready()` (controls sits below incidents and never imports
them).

- A kill-switch trigger that is not a drill, linked to no incident, opens a SEV1 for
  the environment with the playbook for its reason (incident-response playbook
  P0-1..P0-3; P0-0 otherwise), opened by the triggering user when they may open
  incidents, else by the system. When the environment already has an open kill
  incident (an open SEV1 linked to an earlier non-drill trigger of that
  environment), the trigger is linked to it instead: one incident per outage, not
  one SEV1 per press of the button. A repeated trigger (already KILLED) is linked
  to that incident too, so its timeline shows the attempt.
- A mode change linked to no incident is linked to the environment's newest open
  incident, if any.
- Every change linked to an incident gets a "control" entry on its timeline.

Timeline entries and openings are best effort, each in a savepoint: a kill or a
rollback is never undone because an incident refused something (the change itself
is in the audit trail either way). Also registers the live-transition precondition
"no open SEV1/SEV2 incident" (live-trading runbook 1) and the resolver of
operator-requested incident links.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction

from incidents.models import Incident
from incidents.selectors import open_incidents_for_environment
from incidents.services import incident_open_in_transaction, timeline_entry_add_in_transaction
from opsportal.approvals.registry import PreconditionResult
from opsportal.controls import hooks
from opsportal.controls.models import Environment, KillSwitchEvent, ReasonCode
from opsportal.controls.preconditions import register_live_precondition
from opsportal.core.errors import DomainError, ValidationFailed

logger = logging.getLogger(__name__)

# Incident playbook attached when a trigger opens an incident (procedure library slugs).
PLAYBOOK_FOR_REASON: dict[str, str] = {
    ReasonCode.THRESHOLD_PNL.value: "p0-1-kill-switch-pnl-breach",
    ReasonCode.THRESHOLD_DRAWDOWN.value: "p0-2-kill-switch-max-drawdown",
    ReasonCode.SECURITY.value: "p0-3-unauthorized-trading",
}
DEFAULT_PLAYBOOK = "p0-0-kill-switch-triggered"
_MODE_CHANGES = (hooks.WENT_LIVE, hooks.ROLLED_BACK)


def on_control_change(change: hooks.ControlChange) -> int | None:
    """The control listener: open or find the incident for `change`, add the
    timeline entry, and answer the linked incident's id (or None)."""
    incident_id = change.incident_id
    is_trigger = change.kind in (hooks.TRIGGERED, hooks.TRIGGER_REPEATED)
    if incident_id is None and is_trigger and not change.is_drill:
        incident_id = open_kill_incident_id(change.environment)
    if incident_id is None and change.kind == hooks.TRIGGERED and not change.is_drill:
        incident_id = _open_kill_incident(change)
    elif incident_id is None and change.kind in _MODE_CHANGES:
        newest = (
            open_incidents_for_environment(change.environment, severities=_ALL_SEVERITIES)
            .order_by("-detected_at", "-pk")
            .only("pk")
            .first()
        )
        incident_id = newest.pk if newest else None
    if incident_id is not None:
        _timeline(incident_id, change)
    return incident_id


_ALL_SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def _timeline(incident_id: int, change: hooks.ControlChange) -> None:
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return
    try:
        with transaction.atomic():
            timeline_entry_add_in_transaction(
                incident=incident,
                actor=change.actor,
                kind="control",
                body=change.summary,
                metadata=change.metadata,
            )
    except (DomainError, DatabaseError) as exc:
        logger.error(
            "incidents.control_timeline_failed", extra={"incident": incident_id, "error": repr(exc)}
        )


def open_kill_incident_id(environment: Environment) -> int | None:
    """The id of `environment`'s open kill incident, or None: the newest open SEV1 of
    the environment that a non-drill trigger of the same environment is linked to
    (the SEV1 a trigger opened, or the incident an operator linked the kill to).
    One query."""
    linked = KillSwitchEvent.objects.filter(
        environment=environment,
        kind=KillSwitchEvent.Kind.TRIGGERED,
        is_drill=False,
        incident_id__isnull=False,
    ).values("incident_id")
    newest = (
        open_incidents_for_environment(environment, severities=("SEV1",))
        .filter(pk__in=linked)
        .order_by("-detected_at", "-pk")
        .only("pk")
        .first()
    )
    return newest.pk if newest else None


def _open_kill_incident(change: hooks.ControlChange) -> int | None:
    """Open the SEV1 of a trigger: with its playbook, or without one when the playbook
    cannot be attached (not loaded), each attempt in a savepoint."""
    env = change.environment
    actor = change.actor
    label = ReasonCode(change.reason_code).label
    title = f"Kill switch triggered on {env.slug}: {label}"
    playbook = PLAYBOOK_FOR_REASON.get(change.reason_code, DEFAULT_PLAYBOOK)
    may_open = getattr(actor, "is_authenticated", False) and actor.has_perm(
        "incidents.add_incident"
    )
    for playbook_slug in (playbook, None):
        try:
            with transaction.atomic():
                incident = incident_open_in_transaction(
                    # A risk officer may kill without the right to open incidents;
                    # then the system opens it (the trigger is in the audit trail).
                    actor=actor if may_open else None,
                    title=title[:200],
                    severity="SEV1",
                    summary=change.note,
                    environment=env,
                    trading_halted=True,
                    playbook_slug=playbook_slug,
                )
                return incident.pk
        except (DomainError, DatabaseError) as exc:  # noqa: PERF203 - see docstring
            logger.error(
                "incidents.kill_incident_open_failed",
                extra={"environment": env.slug, "playbook": playbook_slug, "error": repr(exc)},
            )
    return None


def resolve_incident_link(user: Any, incident_id: int, environment: Environment) -> int | None:
    """`incident_id` when it names an open incident that `user` may see (None: the
    system) and that is about `environment` or no environment; None otherwise.
    Raises ValidationFailed (field "incident") for an open incident of another
    environment: linking it would leave `environment`'s change without its own."""
    if user is not None and not user.has_perm("incidents.view_incident"):
        return None
    incident = Incident.objects.open().filter(pk=incident_id).only("environment_id").first()
    if incident is None:
        return None
    if incident.environment_id is not None and incident.environment_id != environment.pk:
        other = Environment.objects.filter(pk=incident.environment_id).first()
        raise ValidationFailed(
            f"Incident #{incident_id} is about {other.slug if other else 'another environment'}"
            f", not {environment.slug}: link an incident of {environment.slug}, or none.",
            code="wrong_environment",
            field="incident",
        )
    return incident_id


def check_no_open_major_incident(environment: Environment) -> PreconditionResult:
    """Live-transition precondition: no SEV1/SEV2 incident open for `environment`."""
    label = "No open SEV1/SEV2 incident for the environment"
    open_ = list(open_incidents_for_environment(environment, severities=("SEV1", "SEV2"))[:5])
    if open_:
        names = ", ".join(f"#{i.pk} {i.severity} {i}" for i in open_)
        return PreconditionResult("no_open_incident", label, False, f"open: {names}")
    return PreconditionResult("no_open_incident", label, True, "none open")


def register() -> None:
    """Register the listener, the link resolver and the precondition (from ready())."""
    hooks.register_control_listener(on_control_change)
    hooks.register_incident_link(resolve_incident_link)
    register_live_precondition(
        "no_open_incident", "No open SEV1/SEV2 incident", check_no_open_major_incident
    )
