"""Notes, commands, evidence and control events on the timeline."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from incidents.models import (
    Incident,
    TimelineEntry,
)
from incidents.services._base import (
    require_permission,
    timeline_write,
)
from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.core.errors import ValidationFailed
from opsportal.core.text import NOTE_MAX, text_within

# Kinds anyone may add through timeline_entry_add, with the permission each needs.
# The other kinds are written only by the services above. "control" entries are
# posted by the controls services (kill switch, mode changes), which check their
# own permissions.
_FREE_KINDS: dict[str, str | None] = {
    TimelineEntry.Kind.NOTE: "incidents.add_note_incident",
    TimelineEntry.Kind.COMMAND: "incidents.add_record_incident",
    TimelineEntry.Kind.EVIDENCE: "incidents.add_record_incident",
    TimelineEntry.Kind.CONTROL: None,
}


def timeline_entry_add_in_transaction(
    *,
    incident: Incident,
    actor: Any,
    kind: str,
    body: str,
    metadata: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append a note, a command run, an evidence link or a control event.

    Args:
        incident: the incident (any state; the timeline stays open for follow-ups).
        actor: the author; None for the system.
        kind: "note" (incidents.add_note_incident), "command" or "evidence"
            (incidents.add_record_incident), or "control" (kill-switch and mode events
            from the controls app; no incident permission needed).
        body: the text; required, at most NOTE_MAX (10,000) characters. For
            "command", the command line as run.
        metadata: JSON-able extras. For "evidence", `metadata["url"]` is required
            and must be an http(s) URL.

    Entries are append-only: nothing edits or deletes them. Runs in the caller's
    transaction (the controls listener adds "control" entries inside the kill-switch
    or mode-change transaction); `timeline_entry_add` is the entry point that owns
    its transaction.
    """
    if kind not in _FREE_KINDS:
        raise ValidationFailed("Choose note, command, evidence or control.", field="kind")
    permission = _FREE_KINDS[kind]
    if permission:
        require_permission(actor, permission)
    metadata = dict(metadata or {})
    body = (body or "").strip()
    if kind == TimelineEntry.Kind.EVIDENCE:
        url = str(metadata.get("url", "")).strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationFailed(
                "Evidence needs a link starting with http:// or https://.", field="url"
            ) from None
        metadata["url"] = url
        body = body or url
    if not body:
        raise ValidationFailed("Write something for the timeline.", field="body")
    text_within(body, limit=NOTE_MAX, field="body", label="The text")
    with transaction.atomic():
        entry = timeline_write(
            incident=incident, actor=actor, kind=kind, body=body, metadata=metadata
        )
        audit_record(
            actor=actor,
            event_type="incident.timeline_entry_added",
            obj=incident,
            after={"kind": kind, "body": body[:500], **metadata},
        )
    return entry


timeline_entry_add = durable_entry_point(timeline_entry_add_in_transaction)
