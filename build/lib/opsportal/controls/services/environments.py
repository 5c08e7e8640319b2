"""Admin writes of an environment's descriptive fields."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.controls.models import Environment


def environment_save_in_transaction(
    *, environment: Environment, actor: Any, created: bool
) -> Environment:
    """Create or edit an environment's descriptive fields and cooldown (mode and kill
    switch are not editable: they change only through the kill-switch and mode
    services), in the caller's transaction (the admin's change form holds one).
    `environment_save` is the entry point that owns one."""
    fields = ["slug", "name", "venue", "description", "recovery_cooldown_seconds"]
    with transaction.atomic():
        if created:
            environment.save(force_insert=True)
        else:
            environment.save(update_fields=fields)
        audit_record(
            actor=actor,
            event_type="environment.created" if created else "environment.changed",
            obj=environment,
            after={f: getattr(environment, f) for f in fields},
        )
    return environment


environment_save = durable_entry_point(environment_save_in_transaction)
