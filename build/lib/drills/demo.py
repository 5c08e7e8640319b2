"""Demo drill schedules and one past drill (seed_demo). Idempotent.

- monthly kill-switch drill, quarterly failover drill and semi-annual full incident
  drill on `paper` (incident-response-playbook-sev-levels.md §9);
- a completed, signed-off failover drill on `paper`, so the calendar and the
  records have something to show.

Skips (with a message) when the `paper` environment or the procedure library is
missing: run `load_procedures` and the controls demo first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from drills.models import DrillRun, DrillSchedule
from drills.selectors import last_kill_switch_drill
from drills.services.recording import drill_step_record
from drills.services.runs import (
    drill_precheck_tick,
    drill_run_complete,
    drill_run_plan,
    drill_run_start,
)
from drills.services.schedules import drill_schedule_create
from opsportal.controls.models import Environment
from opsportal.library.models import Procedure
from opsportal.signoffs.services import signable_sha256, signoff_sign

SCHEDULES = [
    # procedure slug, frequency, first due in N days
    ("kill-switch-drill", DrillSchedule.Frequency.MONTHLY, 3),
    ("failover-drill", DrillSchedule.Frequency.QUARTERLY, 30),
    ("full-incident-drill", DrillSchedule.Frequency.SEMI_ANNUAL, 60),
    ("kill-switch-verification", DrillSchedule.Frequency.MANUAL, 0),
]


def seed(*, users: dict[str, Any], stdout: Any) -> None:
    paper = Environment.objects.filter(slug="paper").first()
    if paper is None:
        stdout.write("drills demo skipped: no 'paper' environment (seed controls first)")
        return
    today = timezone.now().date()
    for slug, frequency, days in SCHEDULES:
        procedure = Procedure.objects.filter(slug=slug).first()
        if procedure is None:
            stdout.write(f"drills demo: no procedure '{slug}' (run load_procedures)")
            continue
        drill_schedule_create(
            procedure=procedure,
            environment=paper,
            frequency=frequency,
            first_due_on=today + dt.timedelta(days=days),
            actor=users.get("admin"),
        )
        stdout.write(f"drill schedule {slug} on paper ({frequency})")
    _past_failover_drill(paper, users, stdout)
    _recent_kill_switch_verification(paper, users, stdout)


def _past_failover_drill(paper: Environment, users: dict[str, Any], stdout: Any) -> None:
    procedure = Procedure.objects.filter(slug="failover-drill").first()
    lead, observer = users.get("operator1"), users.get("operator2")
    if procedure is None or lead is None or observer is None:
        return
    if DrillRun.objects.filter(procedure_version__procedure=procedure, environment=paper).exists():
        stdout.write("demo failover drill exists")
        return
    schedule = DrillSchedule.objects.filter(procedure=procedure, environment=paper).first()
    run = drill_run_plan(
        procedure=procedure,
        environment=paper,
        lead=lead,
        observer=observer,
        participants=[users["commander"]] if "commander" in users else [],
        planned_at=timezone.now(),
        schedule=schedule,
        notes="Demo: broker disconnect simulated on paper.",
        actor=lead,
    )
    for item in run.prechecks.all():
        drill_precheck_tick(item_id=item.pk, actor=lead)
    drill_run_start(run_id=run.pk, actor=lead)
    for result in run.step_results.select_related("step"):
        target = result.step.time_target_seconds
        drill_step_record(
            result_id=result.pk,
            actor=lead,
            outcome="pass",
            measured_seconds=(target // 2) if target else None,
            observations="Demo record.",
        )
    run = drill_run_complete(run_id=run.pk, actor=lead)
    for user, role in ((lead, "drill_lead"), (observer, "observer")):
        run.refresh_from_db()
        signoff_sign(
            target=run,
            actor=user,
            role=role,
            password=_demo_password(),
            content_sha256=signable_sha256(run),
            comment="Demo sign-off.",
        )
    stdout.write(f"demo failover drill #{run.pk} completed and signed off")


def _recent_kill_switch_verification(
    paper: Environment, users: dict[str, Any], stdout: Any
) -> None:
    """A kill-switch verification on `paper` recorded by hand within the last 24 h,
    so the demo's live transition on paper can pass "kill switch drilled within
    24 h". Re-seeding after the window has passed records a fresh one."""
    max_age = int(settings.OPSPORTAL_KILL_SWITCH_DRILL_MAX_AGE_SECONDS)
    if last_kill_switch_drill(paper, since=timezone.now() - dt.timedelta(seconds=max_age)):
        stdout.write("demo kill-switch verification within the window exists")
        return
    procedure = Procedure.objects.filter(slug="kill-switch-verification").first()
    lead, observer = users.get("operator1"), users.get("operator2")
    if procedure is None or lead is None or observer is None:
        return
    run = drill_run_plan(
        procedure=procedure,
        environment=paper,
        lead=lead,
        observer=observer,
        planned_at=timezone.now(),
        notes="Demo: verification performed by hand and recorded step by step.",
        actor=lead,
    )
    for item in run.prechecks.all():
        drill_precheck_tick(item_id=item.pk, actor=lead)
    drill_run_start(run_id=run.pk, actor=lead)
    for result in run.step_results.select_related("step"):
        target = result.step.time_target_seconds
        drill_step_record(
            result_id=result.pk,
            actor=lead,
            outcome="pass",
            measured_seconds=Decimal(target) / 2 if target else None,
            observations="Demo record.",
        )
    run = drill_run_complete(run_id=run.pk, actor=lead)
    stdout.write(f"demo kill-switch verification #{run.pk} completed (awaiting sign-off)")


def _demo_password() -> str:
    return settings.OPSPORTAL_DEMO_PASSWORD
