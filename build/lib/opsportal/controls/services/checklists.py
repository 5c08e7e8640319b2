"""Ticking the checklists a mode change starts (rollback: 8 steps; live transition:
10 steps) where the work happens: on the environment page and on the incident the
change is linked to. Ops-drills-and-rollback-evidence (rollback) and live-trading
runbook 3 (transition)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from opsportal.controls.models import Environment, ModeChange
from opsportal.controls.services.mode import LIVE_TRANSITION_PROCEDURE, ROLLBACK_PROCEDURE
from opsportal.core.errors import NotFound, NotPermitted
from opsportal.library.models import ChecklistItem
from opsportal.library.services import checklist_item_tick

# Who works through each checklist: the people who may make that mode change.
TICK_PERMISSION = {
    ROLLBACK_PROCEDURE: "controls.rollback_mode",
    LIVE_TRANSITION_PROCEDURE: "controls.request_live_transition",
}
DEFAULT_TICK_PERMISSION = "controls.rollback_mode"


def mode_change_checklist_item_tick(
    *, environment: Environment, item_id: int, actor: Any, note: str = ""
) -> ChecklistItem:
    """Tick item `item_id` of a checklist attached to one of `environment`'s mode
    changes, as `actor`, with an optional note.

    Raises NotFound (field "item") when the item is not on a checklist of this
    environment's mode changes, and NotPermitted when `actor` may not make the change
    the checklist belongs to (rollback checklist: controls.rollback_mode;
    live-transition checklist: controls.request_live_transition). Idempotent: a done
    item stays as it was. The tick itself is the library's entry point
    `checklist_item_tick` (its own durable transaction, audited as
    checklist.item_ticked); the checks here read rows that never change (an item's
    checklist, a checklist's target), so they need no lock.
    """
    change_ids = ModeChange.objects.filter(environment=environment).values_list("pk", flat=True)
    item = (
        ChecklistItem.objects.filter(
            pk=item_id,
            checklist__target_type=ContentType.objects.get_for_model(ModeChange),
            checklist__target_id__in=[str(pk) for pk in change_ids],
        )
        .select_related("checklist__procedure_version__procedure")
        .first()
    )
    if item is None:
        raise NotFound(f"No such checklist item on {environment.slug}.", field="item")
    slug = item.checklist.procedure_version.procedure.slug
    permission = TICK_PERMISSION.get(slug, DEFAULT_TICK_PERMISSION)
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(permission):
        raise NotPermitted(
            f"You may not work through the {slug} checklist of {environment.slug}.",
            code="forbidden",
        )
    return checklist_item_tick(item_id=item.pk, actor=actor, note=note)
