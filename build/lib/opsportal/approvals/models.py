"""Four-eyes approvals: policies, requests and the decisions on them.

A request's policy is a snapshot (`approvals_required`, `eligible_groups`,
`expires_at`) copied from `ApprovalPolicy` when the request is made, so editing a
policy never unlocks a pending request. Decisions bind to the payload revision and
its SHA-256: amending the payload starts a new revision, and only decisions on the
current revision count. The database enforces "one user counts once" per revision.
Every write goes through `approvals.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.validators import MinValueValidator
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition


class ApprovalPolicy(models.Model):
    """How many people, from which role groups, must approve an action, and how
    long a request stays open. Changes apply to requests made afterwards."""

    action = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    approvals_required = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Approvers needed besides the requester.",
    )
    eligible_groups = models.JSONField(
        default=list, help_text="Role names whose members may approve, e.g. ['risk_officer']."
    )
    expiry_seconds = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(60)], help_text="Seconds a request stays open."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["action"]
        verbose_name_plural = "approval policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1), name="policy_needs_an_approver"
            ),
        ]

    def __str__(self) -> str:
        return self.action


class ApprovalRequest(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        EXECUTING = "executing", "Executing"
        EXECUTED = "executed", "Executed"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    OPEN_STATUSES = (Status.PENDING, Status.APPROVED, Status.EXECUTING)

    action = models.CharField(max_length=64, db_index=True)
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    target_repr = models.CharField(max_length=200)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_requests"
    )
    reason = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    payload_sha256 = models.CharField(max_length=64)
    payload_revision = models.PositiveIntegerField(default=1)
    # The policy snapshot, copied at creation.
    approvals_required = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    eligible_groups = models.JSONField(default=list)
    expires_at = models.DateTimeField(db_index=True)

    status = FSMField(max_length=16, choices=Status.choices, default=Status.PENDING, protected=True)
    # What the engine evaluated, as [{"code", "label", "passed", "detail"}, ...]:
    # when the request was made (or its payload last amended) and when the final
    # approval executed it. The request page shows these, not a re-evaluation, once
    # the request is no longer pending.
    preconditions_at_request = models.JSONField(default=list, blank=True)
    preconditions_at_execution = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    closed_reason = models.TextField(
        blank=True, help_text="Why it was rejected, cancelled or expired."
    )
    created_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("decide_approvalrequest", "Can approve or reject approval requests")]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1), name="request_needs_an_approver"
            ),
            # One open request per action and target: a second "go live" for the
            # same environment is refused, not queued.
            models.UniqueConstraint(
                fields=["action", "target_type", "target_id"],
                condition=models.Q(status__in=["pending", "approved", "executing"]),
                name="one_open_request_per_action_target",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_repr}"

    # Transitions only guard and change the status; services set the other fields.
    @transition(field=status, source=Status.PENDING, target=Status.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.EXECUTING)
    def claim(self) -> None:
        pass

    @transition(field=status, source=Status.EXECUTING, target=Status.EXECUTED)
    def complete(self) -> None:
        pass

    @transition(field=status, source=Status.EXECUTING, target=Status.FAILED)
    def fail(self) -> None:
        pass

    @transition(field=status, source=Status.PENDING, target=Status.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=Status.PENDING, target=Status.CANCELLED)
    def cancel(self) -> None:
        pass

    @transition(field=status, source=Status.PENDING, target=Status.EXPIRED)
    def expire(self) -> None:
        pass

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING


class Approval(models.Model):
    """One person's decision on one payload revision of a request."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="decisions")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_decisions"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    payload_sha256 = models.CharField(max_length=64, help_text="The payload hash the approver saw.")
    payload_revision = models.PositiveIntegerField()
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One user counts once: a second decision by the same person on the same
            # payload revision is refused by the database, whatever the code path.
            models.UniqueConstraint(
                fields=["request", "approver", "payload_revision"],
                name="one_decision_per_user_per_revision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} #{self.request_id}"
