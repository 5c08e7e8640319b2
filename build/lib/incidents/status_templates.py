"""The three status-message templates of the runbooks (incident-response-playbook-
sev-levels.md "Communication Templates"), in our own words, with the same fields.

`render(kind, incident=..., fields=..., now=...)` returns the text to post. The
incident supplies what the portal knows (reference, title, severity, status,
trading halted, commander, duration); the author supplies the rest.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

INITIAL = "initial"
UPDATE = "update"
RESOLUTION = "resolution"

# Input each template asks the author for: (field, label, required).
TEMPLATE_FIELDS: dict[str, list[tuple[str, str, bool]]] = {
    INITIAL: [("impact", "What is affected", True)],
    UPDATE: [("progress", "What has been done", True), ("next_steps", "What happens next", True)],
    RESOLUTION: [
        ("root_cause", "Root cause (short)", True),
        ("action_items", "Follow-up actions", False),
    ],
}


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "none scheduled"


def format_duration(delta: timedelta | None) -> str:
    """'2 h 05 min', '4 min'; '-' for None."""
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h {minutes:02d} min"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def render(
    kind: str,
    *,
    incident: Any,
    fields: dict[str, str],
    commander: str,
    next_update_due_at: datetime | None,
    review_due: str,
    now: datetime,
) -> str:
    """Render one status message. `fields` holds the author's input for `kind`."""
    head = f"{incident.reference}: {incident.title}"
    if kind == INITIAL:
        return "\n".join(
            [
                f"INCIDENT OPENED - {head}",
                f"Severity: {incident.severity} ({incident.sev.alias})",
                f"Status: {incident.get_status_display()}",
                f"Impact: {fields['impact']}",
                f"Trading halted (kill switch): {'yes' if incident.trading_halted else 'no'}",
                f"Incident commander: {commander}",
                f"Next update: {_when(next_update_due_at)}",
            ]
        )
    if kind == UPDATE:
        return "\n".join(
            [
                f"INCIDENT UPDATE - {head}",
                f"Status: {incident.get_status_display()}",
                f"Progress: {fields['progress']}",
                f"Next steps: {fields['next_steps']}",
                f"Next update: {_when(next_update_due_at)}",
            ]
        )
    if kind == RESOLUTION:
        end = incident.resolved_at or now
        return "\n".join(
            [
                f"INCIDENT RESOLVED - {head}",
                f"Duration: {format_duration(end - incident.detected_at)}",
                f"Root cause: {fields['root_cause']}",
                f"Follow-up actions: {fields.get('action_items') or 'none'}",
                f"Post-incident review: {review_due}",
            ]
        )
    raise ValueError(f"unknown status update kind {kind!r}")
