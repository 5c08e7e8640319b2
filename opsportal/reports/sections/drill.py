"""The drill execution record (ops-drills-and-rollback-evidence "record template"):
the run's facts, pre-drill checklist, steps with measured times against targets,
pass/fail, issues and follow-ups, sign-offs with the content hash they signed."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from drills import selectors
from drills.models import DrillActionItem, DrillPreCheckItem, DrillRun, DrillStepResult
from opsportal.reports.charts import measured_vs_target
from opsportal.reports.document import Document, Section
from opsportal.signoffs.services import (
    ROLE_LABELS,
    required_roles_for,
    signable_sha256,
    signoffs_for,
    valid_signoffs,
)


def _run(pk: int) -> DrillRun:
    return (
        DrillRun.objects.select_related(
            "procedure_version__procedure", "environment", "lead", "observer", "live_confirmed_by"
        )
        .prefetch_related(
            "participants",
            Prefetch("prechecks", queryset=DrillPreCheckItem.objects.select_related("done_by")),
            Prefetch(
                "step_results",
                queryset=DrillStepResult.objects.select_related("step", "performed_by").order_by(
                    "position"
                ),
            ),
            Prefetch(
                "action_items",
                queryset=DrillActionItem.objects.select_related("owner", "step_result"),
            ),
        )
        .get(pk=pk)
    )


def facts_section(run: DrillRun) -> Section:
    return Section(
        "Drill",
        "reports/sections/drill_facts.html",
        {"run": run, "result": selectors.run_result_summary(run)},
    )


def prechecks_section(run: DrillRun) -> Section:
    return Section(
        "Pre-drill checklist",
        "reports/sections/drill_prechecks.html",
        {"items": run.prechecks.all()},
    )


def steps_section(run: DrillRun) -> Section:
    timings = selectors.timing_summary(run)
    measured = [t for t in timings if t.measured_seconds is not None]
    chart = (
        measured_vs_target(
            labels=[f"{t.position}. {t.title}" for t in measured],
            measured=[t.measured_seconds for t in measured],
            targets=[t.target_seconds for t in measured],
            unit="seconds (bar: measured, mark: target)",
        )
        if measured
        else None
    )
    return Section(
        "Steps, times and results",
        "reports/sections/drill_steps.html",
        {"results": run.step_results.all(), "chart": chart},
        anchor="steps",
    )


def follow_ups_section(run: DrillRun) -> Section:
    return Section(
        "Issues and follow-ups",
        "reports/sections/drill_follow_ups.html",
        {"run": run, "items": run.action_items.all()},
    )


def signoffs_section(run: DrillRun) -> Section:
    content_sha256 = signable_sha256(run)
    valid = {s.pk for s in valid_signoffs(run, content_sha256=content_sha256)}
    signoffs = list(signoffs_for(run, include_void=True).select_related("signer"))
    signed_roles = {s.role for s in signoffs if s.pk in valid}
    return Section(
        "Sign-offs",
        "reports/sections/drill_signoffs.html",
        {
            "content_sha256": content_sha256,
            "signoffs": [{"s": s, "valid": s.pk in valid} for s in signoffs],
            "required": [
                {"label": ROLE_LABELS.get(r, r), "signed": r in signed_roles}
                for r in required_roles_for(run)
            ],
        },
        anchor="signoffs",
    )


def build(params: dict[str, Any]) -> Document:
    run = _run(params["drill_run"])
    return Document(
        title=f"Drill execution record #{run.pk}",
        subject=f"{run.procedure_version.title} on {run.environment}",
        sections=[
            facts_section(run),
            prechecks_section(run),
            steps_section(run),
            follow_ups_section(run),
            signoffs_section(run),
        ],
    )


def title(params: dict[str, Any]) -> str:
    return f"Drill execution record #{params['drill_run']}"
