"""Incident notifications, in the words of the emergency handbook's initial
stakeholder alert. Registered at import (incidents' `ready()` imports this module).

Opening a SEV1 tells operators, incident commanders and risk officers at once; a
SEV2 operators and commanders; SEV3/SEV4 nobody (they are on the incident list).
The person who opened it is not told about their own incident.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from incidents.models import Incident
from opsportal.notifications.messages import utc_text
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.selectors import people_in_roles
from opsportal.notifications.services import notify_best_effort

OPENED = "incident.opened"
OPENED_AUDIENCE = {
    "SEV1": ("operator", "incident_commander", "risk_officer"),
    "SEV2": ("operator", "incident_commander"),
}

ESCALATED = "incident.escalated"
SLA_BREACHED = "incident.sla_breached"
UPDATE_OVERDUE = "incident.update_overdue"

register_notification_kind(OPENED, label="Incident opened (SEV1, SEV2)", email_default=True)
register_notification_kind(SLA_BREACHED, label="Incident response SLA missed", email_default=True)
register_notification_kind(UPDATE_OVERDUE, label="Incident status update overdue")
register_notification_kind(
    ESCALATED, label="Incident escalated to you (not acknowledged)", email_default=True
)


def incident_url(incident: Incident) -> str:
    return reverse("incidents:detail", kwargs={"pk": incident.pk})


def notify_opened(incident: Incident, actor: Any) -> int:
    roles = OPENED_AUDIENCE.get(incident.severity)
    if not roles:
        return 0
    sev = incident.sev
    lines = [
        f"Summary: {incident.title}" + (f" — {incident.summary}" if incident.summary else ""),
        f"Severity: {sev.label}",
        f"Start time: {utc_text(incident.detected_at)}",
    ]
    if incident.environment_id:
        lines.append(f"Environment: {incident.environment}")
    if incident.trading_halted:
        lines.append("Trading is halted (kill switch).")
    lines += [
        f"Acknowledge by: {utc_text(incident.ack_due_at)}",
        f"Next update due: {utc_text(incident.next_update_due_at)}",
        f"Opened by: {getattr(actor, 'username', '') or 'the system'}",
    ]
    return notify_best_effort(
        kind=OPENED,
        recipients=people_in_roles(roles, exclude=actor),
        title=f"[{incident.severity}] {incident.reference} opened: {incident.title}",
        body="\n".join(lines),
        url=incident_url(incident),
        dedupe_key=f"incident:{incident.pk}:opened",
    )
