"""Reports: a request for a document (kind + parameters) and the files made for it.

    queued -> running -> done
                      -> failed
    running -> running   (a redelivered task after a worker died mid-report)

A request is identified by `request_key`, the SHA-256 of its kind and canonical
parameters: while one request with a key is queued or running, asking again returns
it (a partial unique constraint makes that hold under concurrency too). Files live
under MEDIA_ROOT at a path fixed by the report's id and format, so a task that runs
twice overwrites, never adds (docs/reports.md "Idempotency").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition


class Kind(models.TextChoices):
    INCIDENT = "incident", "Incident report"
    REVIEW = "review", "Post-incident review"
    DRILL = "drill", "Drill execution record"
    ROLLBACK = "rollback", "Rollback report"
    MONTHLY = "monthly", "Monthly operations and compliance report"


class Report(FSMModelMixin, models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    parameters = models.JSONField(default=dict)
    request_key = models.CharField(
        max_length=64, db_index=True, help_text="SHA-256 of the kind and canonical parameters."
    )
    title = models.CharField(max_length=300)
    state = FSMField(
        max_length=8, choices=State.choices, default=State.QUEUED, protected=True, db_index=True
    )
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system (the monthly schedule).",
    )
    requested_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Task runs that started generating (redeliveries included)."
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_pending_report_per_request",
            )
        ]
        permissions = [("export_report", "Can request reports")]

    def __str__(self) -> str:
        return f"Report #{self.pk}: {self.title}"

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    # Transitions only guard and change the field; reports.services does the rest.
    @transition(field=state, source=[State.QUEUED, State.RUNNING], target=State.RUNNING)
    def start(self) -> None:
        pass

    @transition(field=state, source=State.RUNNING, target=State.DONE)
    def finish(self) -> None:
        pass

    @transition(field=state, source=[State.QUEUED, State.RUNNING], target=State.FAILED)
    def fail(self) -> None:
        pass


class ReportFile(models.Model):
    class Format(models.TextChoices):
        HTML = "html", "HTML"
        PDF = "pdf", "PDF"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(max_length=4, choices=Format.choices)
    path = models.CharField(max_length=300, help_text="Relative to MEDIA_ROOT.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["report", "format"]
        constraints = [
            models.UniqueConstraint(fields=["report", "format"], name="one_file_per_format")
        ]

    def __str__(self) -> str:
        return f"{self.path} ({self.sha256[:12]}…)"

    @property
    def content_type(self) -> str:
        return "application/pdf" if self.format == self.Format.PDF else "text/html; charset=utf-8"
