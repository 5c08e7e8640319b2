"""The procedure library: versioned procedure templates.

A `Procedure` (stable slug) has numbered `ProcedureVersion`s; each version's steps
are `ProcedureStep`s. Exactly one version of a procedure is `published` at a time;
checklists and drill runs point at the version they used, so revising a procedure
never changes a record already made.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models


class Procedure(models.Model):
    class Kind(models.TextChoices):
        INCIDENT_PLAYBOOK = "incident_playbook", "Incident playbook"
        DRILL = "drill", "Drill"
        CHECKLIST = "checklist", "Checklist"
        TRANSITION = "transition", "Mode transition"
        ROLLBACK = "rollback", "Rollback"

    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "drills_procedure"  # the table predates the library app (moved from drills)
        ordering = ["kind", "slug"]

    def __str__(self) -> str:
        return self.title


class ProcedureVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    source = models.CharField(
        max_length=300, blank=True, help_text="The runbook section this procedure implements."
    )
    severity = models.CharField(
        max_length=4, blank=True, help_text="Incident playbooks: the severity it applies to."
    )
    pre_checklist = models.JSONField(default=list, blank=True)
    pass_criteria = models.TextField(blank=True)
    signoff_roles = models.JSONField(
        default=list, blank=True, help_text="Roles whose sign-off a run needs, e.g. drill_lead."
    )
    content_sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "drills_procedureversion"
        ordering = ["procedure__slug", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "version"], name="procedure_version_unique"
            ),
            models.UniqueConstraint(
                fields=["procedure"],
                condition=models.Q(status="published"),
                name="one_published_version_per_procedure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ProcedureStep(models.Model):
    version = models.ForeignKey(ProcedureVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    scenario = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=200)
    instruction = models.TextField()
    expected_result = models.TextField(blank=True)
    time_target_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="The step passes only if done within this many seconds."
    )
    pass_rule = models.TextField(blank=True)

    class Meta:
        db_table = "drills_procedurestep"
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="procedure_step_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class Checklist(models.Model):
    """A procedure version instantiated for something: an incident's playbook, an
    environment's rollback. Its items are the version's steps, ticked by named users.
    The target is generic so every app can attach checklists without a new model."""

    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="checklists"
    )
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "drills_checklist"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.procedure_version} for {self.target_type.model} {self.target_id}"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    step = models.ForeignKey(ProcedureStep, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        db_table = "drills_checklistitem"
        ordering = ["checklist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "position"], name="checklist_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.step.title}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
