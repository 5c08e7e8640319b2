"""Who hears about kill-switch changes, and what they read (the emergency
handbook's initial stakeholder alert, in the portal's words).

Registered at import (controls' `ready()` imports this module). Sent from inside
the kill-switch transaction with `notify_best_effort`: telling people never undoes
a kill.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from opsportal.controls.models import Environment, KillSwitchEvent, ReasonCode
from opsportal.notifications.messages import utc_text
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.selectors import people_in_roles
from opsportal.notifications.services import notify_best_effort

KILL_TRIGGERED = "kill_switch.triggered"
KILL_RECOVERED = "kill_switch.recovered"
# Everyone who acts on a kill: the desk, the commanders and risk.
AUDIENCE = ("operator", "incident_commander", "risk_officer")

register_notification_kind(KILL_TRIGGERED, label="Kill switch triggered", email_default=True)
register_notification_kind(KILL_RECOVERED, label="Kill switch recovered", email_default=True)


def notify_kill_triggered(env: Environment, event: KillSwitchEvent, actor: Any) -> int:
    who = getattr(actor, "username", "") or "the system"
    reason = ReasonCode(event.reason_code).label if event.reason_code else "—"
    lines = [
        f"Summary: trading on {env.name} ({env.slug}) is stopped by the kill switch.",
        f"Start time: {utc_text(event.occurred_at)}",
        f"Reason: {reason}" + (f" — {event.note}" if event.note else ""),
        f"Triggered by: {who}",
        "Resuming needs a recovery request and its four-eyes approval.",
    ]
    if event.is_drill:
        lines.insert(0, "This is a drill.")
    return notify_best_effort(
        kind=KILL_TRIGGERED,
        recipients=people_in_roles(AUDIENCE),
        title=f"{'[DRILL] ' if event.is_drill else ''}Kill switch triggered on {env.slug}",
        body="\n".join(lines),
        url=reverse("controls:detail", kwargs={"slug": env.slug}),
        dedupe_key=f"kill-event:{event.pk}",
    )


def notify_kill_recovered(env: Environment, event: KillSwitchEvent, actor: Any) -> int:
    body = (
        f"Trading on {env.name} ({env.slug}) may resume: the kill switch is ACTIVE again "
        f"since {utc_text(event.occurred_at)}"
        + (
            f" (resume request #{event.approval_request_id} approved)."
            if event.approval_request_id
            else "."
        )
    )
    return notify_best_effort(
        kind=KILL_RECOVERED,
        recipients=people_in_roles(AUDIENCE),
        title=f"{'[DRILL] ' if event.is_drill else ''}Kill switch recovered on {env.slug}",
        body=body,
        url=reverse("controls:detail", kwargs={"slug": env.slug}),
        dedupe_key=f"kill-event:{event.pk}",
    )


GATE_NEUTRAL_SET = "gate.neutral_set"
GATE_NEUTRAL_LIFTED = "gate.neutral_lifted"

register_notification_kind(GATE_NEUTRAL_SET, label="Gate NEUTRAL (no new risk)", email_default=True)
register_notification_kind(GATE_NEUTRAL_LIFTED, label="Gate NEUTRAL lifted")


def notify_gate_neutral_changed(env: Environment, previous_reason: str, reason: str) -> int:
    """The environment's gate started answering NEUTRAL (`reason`, a registered
    NEUTRAL reason code), changed its reason, or stopped (`reason` empty). Called by
    the app that changed the gate's inputs (drift), inside that transaction, after
    the environment's version went up: one notice per environment and version. HALT
    is the kill switch's notice."""
    if previous_reason == reason:
        return 0
    url = reverse("controls:detail", kwargs={"slug": env.slug})
    halted = env.kill_switch != Environment.KillSwitch.ACTIVE
    still = " The kill switch is engaged: the gate still answers HALT." if halted else ""
    if reason:
        changed = f" (was {previous_reason})" if previous_reason else ""
        return notify_best_effort(
            kind=GATE_NEUTRAL_SET,
            recipients=people_in_roles(AUDIENCE),
            title=f"Gate NEUTRAL on {env.slug}: {reason}",
            body=f"The gate of {env.name} ({env.slug}) answers NEUTRAL{changed}: no new "
            f"risk. Reason: {reason}.{still}",
            url=url,
            dedupe_key=f"gate:{env.pk}:neutral:{env.version}",
        )
    return notify_best_effort(
        kind=GATE_NEUTRAL_LIFTED,
        recipients=people_in_roles(AUDIENCE),
        title=f"Gate NEUTRAL lifted on {env.slug}",
        body=f"The gate of {env.name} ({env.slug}) no longer answers NEUTRAL "
        f"({previous_reason} cleared).{still}",
        url=url,
        dedupe_key=f"gate:{env.pk}:neutral:{env.version}",
    )
