"""Drill schedules and drill runs (the execution record).

A `DrillSchedule` says how often a procedure is drilled on an environment; its next
due date is computed from the last completed run (see `drills.selectors`). A
`DrillRun` pins the procedure version it follows, so revising the procedure never
changes a record already made. Its state is a protected django-fsm-2 field; only
the services in `drills.services.runs` (and the sign-off rules in
`drills.services.signing`) move it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

__all__ = [
    "DrillSchedule",
    "DrillRun",
    "DrillPreCheckItem",
    "DrillStepResult",
    "DrillActionItem",
]


class DrillSchedule(models.Model):
    """How often one procedure is drilled on one environment
    (incident-response-playbook-sev-levels.md §9: kill switch monthly, failover
    quarterly, full incident drill semi-annually; "after any major change" is
    the manual frequency, due only when someone marks it due)."""

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        SEMI_ANNUAL = "semi_annual", "Semi-annually"
        MANUAL = "manual", "After any major change (manual)"

    procedure = models.ForeignKey(
        "library.Procedure", on_delete=models.PROTECT, related_name="schedules"
    )
    environment = models.ForeignKey(
        "controls.Environment", on_delete=models.PROTECT, related_name="drill_schedules"
    )
    frequency = models.CharField(max_length=16, choices=Frequency.choices)
    first_due_on = models.DateField(
        help_text="Due date of the first run, before any run has been completed."
    )
    manual_due_on = models.DateField(
        null=True,
        blank=True,
        help_text="Manual schedules: due on this date (set after a major change).",
    )
    manual_due_reason = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["procedure__slug", "environment__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "environment"], name="drill_schedule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure} on {self.environment} ({self.get_frequency_display()})"


class DrillRun(FSMModelMixin, models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        SIGNED_OFF = "signed_off", "Signed off"
        ABORTED = "aborted", "Aborted"

    class Result(models.TextChoices):
        PENDING = "pending", "Pending"
        PASSED = "passed", "Passed"
        PASSED_WITH_ISSUES = "passed_with_issues", "Passed with issues"
        # Steps skipped (each with its reason), none failed: the procedure's pass
        # criteria ("passed when every step passes") are not shown to hold.
        INCOMPLETE = "incomplete", "Incomplete (steps skipped)"
        FAILED = "failed", "Failed"

    schedule = models.ForeignKey(
        DrillSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    procedure_version = models.ForeignKey(
        "library.ProcedureVersion", on_delete=models.PROTECT, related_name="drill_runs"
    )
    environment = models.ForeignKey(
        "controls.Environment", on_delete=models.PROTECT, related_name="drill_runs"
    )
    state = FSMField(default=State.PLANNED, choices=State.choices, protected=True, db_index=True)
    result = models.CharField(
        max_length=24,
        choices=Result.choices,
        default=Result.PENDING,
        editable=False,
        help_text="Derived from the step results by the services; never typed.",
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drills_led"
    )
    observer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drills_observed",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="drills_participated"
    )
    planned_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    aborted_at = models.DateTimeField(null=True, blank=True)
    abort_reason = models.TextField(blank=True)
    environment_mode = models.CharField(
        max_length=8, blank=True, help_text="The environment's mode when the run started."
    )
    live_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who confirmed running this drill against a LIVE environment.",
    )
    live_confirmed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-planned_at", "-id"]
        indexes = [models.Index(fields=["environment", "state", "completed_at"])]
        permissions = [
            ("run_drillrun", "Can plan, run and record drills"),
            ("sign_drillrun", "Can sign off drill runs"),
        ]

    def __str__(self) -> str:
        return f"Drill #{self.pk}: {self.procedure_version.title} on {self.environment}"

    @property
    def ran_live(self) -> bool:
        return self.environment_mode == "LIVE"

    # Transitions only guard and change the field; the services do the rest.
    @transition(field=state, source=State.PLANNED, target=State.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(field=state, source=State.IN_PROGRESS, target=State.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(field=state, source=State.COMPLETED, target=State.SIGNED_OFF)
    def sign_off(self) -> None:
        pass

    @transition(field=state, source=[State.PLANNED, State.IN_PROGRESS], target=State.ABORTED)
    def abort(self) -> None:
        pass


class DrillPreCheckItem(models.Model):
    """One item of the pinned version's pre-drill checklist, ticked by a named user."""

    run = models.ForeignKey(DrillRun, on_delete=models.CASCADE, related_name="prechecks")
    position = models.PositiveIntegerField()
    text = models.TextField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="drill_precheck_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:60]}"


class DrillStepResult(models.Model):
    """The outcome of one procedure step in one run. Created `pending` for every
    step when the run is planned; recorded (and re-recorded) by
    `drill_step_record`."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not recorded"
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        SKIPPED = "skipped", "Skipped"

    run = models.ForeignKey(DrillRun, on_delete=models.CASCADE, related_name="step_results")
    step = models.ForeignKey("library.ProcedureStep", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the outcome differs from the one claimed (over target).",
    )
    skip_reason = models.TextField(blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    measured_ms = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Measured duration in milliseconds."
    )
    automated = models.BooleanField(
        default=False, help_text="Measured by the portal itself (automated timing)."
    )
    observations = models.TextField(blank=True)
    evidence_links = models.JSONField(default=list, blank=True)
    measurement = models.JSONField(
        default=dict, blank=True, help_text="Automated timing details (gate reads, versions)."
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step"], name="drill_step_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_outcome_display()}"

    @property
    def measured_seconds(self) -> float | None:
        return None if self.measured_ms is None else self.measured_ms / 1000

    @property
    def within_target(self) -> bool | None:
        target = self.step.time_target_seconds
        if target is None or self.measured_ms is None:
            return None
        return self.measured_ms <= target * 1000


class DrillActionItem(models.Model):
    """A follow-up for an issue found in a drill."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    run = models.ForeignKey(DrillRun, on_delete=models.CASCADE, related_name="action_items")
    step_result = models.ForeignKey(
        DrillStepResult,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "due_on", "id"]

    def __str__(self) -> str:
        return self.title
