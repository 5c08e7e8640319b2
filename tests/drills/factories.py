"""Factories and builders for drill tests.

Procedures are published through the library's own service (`procedure_publish`),
runs planned through `drill_run_plan`, so tests exercise the real paths.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import procedure_publish

KILL_SWITCH_SPEC: dict[str, Any] = {
    "slug": "kill-switch-drill",
    "kind": "drill",
    "title": "Kill-switch drill",
    "pre_checklist": ["Test environment selected", "Team notified"],
    "pass_criteria": "Every scenario passes; HALT within 10 s.",
    "signoff_roles": ["drill_lead", "risk_officer"],
    "steps": [
        {
            "scenario": "Manual trigger",
            "title": "Trigger the kill switch and confirm HALT",
            "instruction": "Trigger the kill switch; watch the gate.",
            "expected_result": "Gate answers HALT",
            "time_target_seconds": 10,
        },
        {
            "scenario": "Manual trigger",
            "title": "Confirm orders are blocked",
            "instruction": "Send a test order.",
        },
        {
            "scenario": "Recovery",
            "title": "Complete recovery and confirm ALLOW",
            "instruction": "Recover; a risk officer approves.",
            "time_target_seconds": 900,
        },
    ],
}


def spec(**overrides: Any) -> dict[str, Any]:
    return {**KILL_SWITCH_SPEC, **overrides}


def publish(data: dict[str, Any] | None = None, **overrides: Any):  # type: ignore[no-untyped-def]
    """Publish a procedure (default: a small kill-switch drill); returns the version."""
    return procedure_publish(spec=parse_procedure(data or spec(**overrides), origin="test"))[0]


def plan(
    *,
    version: Any,
    environment: Any,
    lead: Any,
    observer: Any = None,
    participants: tuple = (),
    **kwargs: Any,
):  # type: ignore[no-untyped-def]
    from drills.services.runs import drill_run_plan

    return drill_run_plan(
        procedure=version.procedure,
        environment=environment,
        lead=lead,
        observer=observer,
        participants=participants,
        planned_at=kwargs.pop("planned_at", timezone.now() + dt.timedelta(hours=1)),
        actor=kwargs.pop("actor", lead),
        **kwargs,
    )


def start(run: Any, actor: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """Tick the whole pre-drill checklist and start the run."""
    from drills.services.runs import drill_precheck_tick, drill_run_start

    actor = actor or run.lead
    for item in run.prechecks.all():
        drill_precheck_tick(item_id=item.pk, actor=actor)
    return drill_run_start(run_id=run.pk, actor=actor, **kwargs)


def record_all(run: Any, actor: Any = None, *, seconds: str = "3") -> None:
    """Record every pending step as pass (within targets)."""
    from drills.services.recording import drill_step_record

    for result in run.step_results.filter(outcome="pending"):
        drill_step_record(
            result_id=result.pk, actor=actor or run.lead, outcome="pass", measured_seconds=seconds
        )


def completed_run(*, version: Any, environment: Any, lead: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
    from drills.services.runs import drill_run_complete

    run = plan(version=version, environment=environment, lead=lead, **kwargs)
    start(run)
    record_all(run)
    return drill_run_complete(run_id=run.pk, actor=lead)
