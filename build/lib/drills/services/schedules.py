"""Writes for drill schedules (ops-drills-and-rollback-evidence.md: monthly kill-switch
drill, quarterly failover, semi-annual full drill, and after any major change).

Creating and changing a schedule run in the caller's transaction (the admin's change
form holds one: `drill_schedule_create_in_transaction`,
`drill_schedule_update_in_transaction`); `drill_schedule_create`,
`drill_schedule_update` and `drill_schedule_mark_due` are entry points that own theirs.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction

from drills.models.runs import (
    DrillSchedule,
)
from drills.services._common import user_or_none
from opsportal.audit.services import audit_record, durable_entry_point, service_entry_point
from opsportal.core.errors import NotFound, ValidationFailed
from opsportal.library.models import Procedure

logger = logging.getLogger(__name__)


def drill_schedule_create_in_transaction(
    *,
    procedure: Procedure,
    environment: Any,
    frequency: str,
    first_due_on: dt.date,
    actor: Any,
) -> DrillSchedule:
    """Create the schedule for `procedure` on `environment`, or return the existing
    one unchanged (idempotent: the pair is unique). Raises ValidationFailed for an
    unknown frequency. Runs in the caller's transaction."""
    if frequency not in DrillSchedule.Frequency.values:
        raise ValidationFailed("Unknown drill frequency.", field="frequency")
    with transaction.atomic():
        existing = DrillSchedule.objects.filter(
            procedure=procedure, environment=environment
        ).first()
        if existing is not None:
            return existing
        schedule = DrillSchedule.objects.create(
            procedure=procedure,
            environment=environment,
            frequency=frequency,
            first_due_on=first_due_on,
            created_by=user_or_none(actor),
        )
        audit_record(
            actor=actor,
            event_type="drill_schedule.created",
            obj=schedule,
            after={
                "procedure": procedure.slug,
                "environment": environment.slug,
                "frequency": frequency,
                "first_due_on": first_due_on,
            },
        )
    return schedule


drill_schedule_create = durable_entry_point(drill_schedule_create_in_transaction)


def drill_schedule_update_in_transaction(
    *,
    schedule_id: int,
    actor: Any,
    frequency: str,
    first_due_on: dt.date,
    is_active: bool,
) -> DrillSchedule:
    """Change a schedule's frequency, first due date or active flag (admin), in the
    caller's transaction. No-op when nothing changes; NotFound for an unknown id."""
    if frequency not in DrillSchedule.Frequency.values:
        raise ValidationFailed("Unknown drill frequency.", field="frequency")
    with transaction.atomic():
        schedule = DrillSchedule.objects.select_for_update().filter(pk=schedule_id).first()
        if schedule is None:
            raise NotFound("No such drill schedule.")
        before = {
            "frequency": schedule.frequency,
            "first_due_on": schedule.first_due_on,
            "is_active": schedule.is_active,
        }
        after = {"frequency": frequency, "first_due_on": first_due_on, "is_active": is_active}
        if before == after:
            return schedule
        schedule.frequency, schedule.first_due_on, schedule.is_active = (
            frequency,
            first_due_on,
            is_active,
        )
        schedule.save(update_fields=["frequency", "first_due_on", "is_active"])
        audit_record(
            actor=actor,
            event_type="drill_schedule.updated",
            obj=schedule,
            before=before,
            after=after,
        )
    return schedule


drill_schedule_update = durable_entry_point(drill_schedule_update_in_transaction)


@service_entry_point
def drill_schedule_mark_due(
    *, schedule_id: int, due_on: dt.date, reason: str, actor: Any
) -> DrillSchedule:
    """Mark a schedule due on `due_on` ("after any major change"). Works for every
    frequency: the earlier of this date and the regular due date applies until a
    run completes after it. Raises ValidationFailed without a reason. Owns its
    transaction (the admin's action calls it once per schedule)."""
    if not reason.strip():
        raise ValidationFailed("Say which change makes the drill due.", field="reason")
    with transaction.atomic(durable=True):
        schedule = DrillSchedule.objects.select_for_update().filter(pk=schedule_id).first()
        if schedule is None:
            raise NotFound("No such drill schedule.")
        before = {"manual_due_on": schedule.manual_due_on}
        schedule.manual_due_on = due_on
        schedule.manual_due_reason = reason.strip()[:300]
        schedule.save(update_fields=["manual_due_on", "manual_due_reason"])
        audit_record(
            actor=actor,
            event_type="drill_schedule.marked_due",
            obj=schedule,
            before=before,
            after={"manual_due_on": due_on, "reason": schedule.manual_due_reason},
        )
    return schedule
