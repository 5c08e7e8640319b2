"""The rollback report (ops-drills-and-rollback-evidence, "generate_rollback_report"):
the LIVE → DRY_RUN mode change, its 8-step checklist with who did what when and the
notes recorded (positions, reconciliations), the linked incident, and the 24 h block
on going LIVE again that the rollback started."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch

from incidents.models import Incident
from opsportal.controls.models import ModeChange
from opsportal.core.formatting import human_duration
from opsportal.library.models import Checklist, ChecklistItem
from opsportal.reports.document import Document, Section


def _change(pk: int) -> ModeChange:
    return ModeChange.objects.select_related("environment", "actor").get(
        pk=pk, kind=ModeChange.Kind.ROLLBACK
    )


def rollback_section(change: ModeChange) -> Section:
    block = int(settings.OPSPORTAL_ROLLBACK_BLOCK_SECONDS)
    later_live = (
        ModeChange.objects.filter(
            environment=change.environment_id,
            kind=ModeChange.Kind.LIVE_TRANSITION,
            occurred_at__gt=change.occurred_at,
        )
        .order_by("occurred_at")
        .first()
    )
    incident = (
        Incident.objects.filter(pk=change.incident_id).first() if change.incident_id else None
    )
    return Section(
        "Rollback",
        "reports/sections/rollback_facts.html",
        {
            "change": change,
            "incident": incident,
            "block": human_duration(block),
            "blocked_until": change.occurred_at + dt.timedelta(seconds=block),
            "later_live": later_live,
        },
    )


def checklist_section(change: ModeChange) -> Section:
    checklists = list(
        Checklist.objects.filter(
            target_type=ContentType.objects.get_for_model(ModeChange), target_id=str(change.pk)
        )
        .select_related("procedure_version")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ChecklistItem.objects.select_related("step", "done_by").order_by(
                    "position"
                ),
            )
        )
    )
    items = [i for c in checklists for i in c.items.all()]
    return Section(
        "Rollback checklist",
        "reports/sections/checklists.html",
        {
            "checklists": checklists,
            "done": sum(1 for i in items if i.done_at),
            "total": len(items),
        },
        anchor="checklist",
    )


def build(params: dict[str, Any]) -> Document:
    change = _change(params["mode_change"])
    return Document(
        title=f"Rollback report #{change.pk}",
        subject=f"{change.environment} LIVE → DRY_RUN at {change.occurred_at:%Y-%m-%d %H:%M} UTC",
        sections=[rollback_section(change), checklist_section(change)],
    )


def title(params: dict[str, Any]) -> str:
    change = (
        ModeChange.objects.select_related("environment").filter(pk=params["mode_change"]).first()
    )
    return f"Rollback report #{params['mode_change']}" + (
        f" ({change.environment})" if change else ""
    )
