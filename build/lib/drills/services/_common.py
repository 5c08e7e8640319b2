"""Helpers shared by the drills service modules (use the services, not these)."""

from __future__ import annotations

from typing import Any

from drills.models.runs import DrillRun
from drills.selectors import derive_run_result
from opsportal.core.errors import NotFound, NotPermitted


def lock_run(run_id: int) -> DrillRun:
    run = (
        DrillRun.objects.select_for_update(of=("self",))
        .select_related("environment", "procedure_version__procedure")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound("No such drill run.")
    return run


def require_crew(run: DrillRun, actor: Any) -> None:
    """Only the people on the drill record it (lead, observer, participants)."""
    if actor.pk in {run.lead_id, run.observer_id}:
        return
    if run.participants.filter(pk=actor.pk).exists():
        return
    raise NotPermitted(
        "Only the drill's lead, observer or participants can do this.", code="not_crew"
    )


def refresh_result(run: DrillRun) -> None:
    result = derive_run_result(run)
    if result != run.result:
        run.result = result
        run.save(update_fields=["result"])


def user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None
