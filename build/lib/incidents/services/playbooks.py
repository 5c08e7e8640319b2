"""Playbook checklists on incidents."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from incidents.models import (
    Incident,
    Status,
    TimelineEntry,
)
from incidents.services._base import (
    lock_incident,
    require_permission,
    timeline_write,
)
from opsportal.audit.services import audit_record, durable_entry_point, service_entry_point
from opsportal.core.errors import Conflict, NotFound
from opsportal.library.models import Checklist, ChecklistItem
from opsportal.library.services import (
    checklist_instantiate_in_transaction,
    checklist_item_tick_in_transaction,
)


def incident_checklists(incident: Incident) -> Any:
    """The incident's playbook checklists (a queryset)."""
    return Checklist.objects.filter(
        target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk)
    )


def incident_attach_playbook_in_transaction(
    *, incident: Incident, procedure_slug: str, actor: Any
) -> Checklist:
    """Attach the published version of playbook `procedure_slug` as a checklist
    (incidents.attach_playbook_incident). Idempotent: if that procedure is already
    attached, its checklist is returned. Raises NotFound for an unknown procedure.
    Runs in the caller's transaction (`incident_open_in_transaction` attaches the
    playbook of a new incident); `incident_attach_playbook` is the entry point that
    owns its transaction.
    """
    require_permission(actor, "incidents.attach_playbook_incident")
    with transaction.atomic():
        locked = lock_incident(None, incident)
        existing = (
            incident_checklists(locked)
            .filter(procedure_version__procedure__slug=procedure_slug)
            .first()
        )
        if existing is not None:
            return existing
        checklist = checklist_instantiate_in_transaction(
            procedure_slug=procedure_slug, target=locked, actor=actor
        )
        version = checklist.procedure_version
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.PLAYBOOK,
            body=f"Playbook attached: {version.title} (v{version.version})",
            metadata={"procedure": procedure_slug, "version": version.version},
        )
        audit_record(
            actor=actor,
            event_type="incident.playbook_attached",
            obj=locked,
            after={"procedure": procedure_slug, "version": version.version},
        )
    return checklist


incident_attach_playbook = durable_entry_point(incident_attach_playbook_in_transaction)


@service_entry_point
def incident_checklist_item_tick(
    *, incident_id: int, item_id: int, actor: Any, note: str = ""
) -> ChecklistItem:
    """Tick an item of one of this incident's checklists
    (incidents.tick_checklist_incident) and record it on the incident's timeline
    (kind "playbook": who ticked which step of which playbook, with the note).
    NotFound if the item belongs to another target; Conflict on a closed or declined
    incident. Idempotent (see opsportal.library.services.checklist_item_tick): ticking
    a done item writes no second timeline entry. Owns its transaction."""
    require_permission(actor, "incidents.tick_checklist_incident")
    with transaction.atomic(durable=True):
        locked = lock_incident(incident_id, None)
        if locked.status in (Status.CLOSED, Status.DECLINED):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident's checklists are final.",
                code="illegal_transition",
            )
        item = (
            ChecklistItem.objects.filter(pk=item_id, checklist__in=incident_checklists(locked))
            .select_related("step", "checklist__procedure_version__procedure")
            .first()
        )
        if item is None:
            raise NotFound("No such checklist item on this incident.", field="item")
        # Ticks of this incident's items are serialised by the incident row lock.
        was_done = item.done_at is not None
        ticked = checklist_item_tick_in_transaction(item_id=item_id, actor=actor, note=note)
        if not was_done:
            version = item.checklist.procedure_version
            body = f"Checklist step {item.position} done ({version.title}): {item.step.title}"
            if ticked.note:
                body += f" — {ticked.note}"
            timeline_write(
                incident=locked,
                actor=actor,
                kind=TimelineEntry.Kind.PLAYBOOK,
                body=body,
                metadata={
                    "procedure": version.procedure.slug,
                    "version": version.version,
                    "checklist": item.checklist_id,
                    "position": item.position,
                },
                at=ticked.done_at,
            )
        return ticked
