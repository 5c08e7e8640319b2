"""Post-incident reviews and their action items (models of the incidents app: the
bottom of incidents/models.py imports this module so Django registers them).

    draft -> in_review -> approved -> published
    in_review -> draft            (a reviewer asks for changes)

`approved` is reached only through the sign-off service (two people, neither the
author, one an incident commander or risk officer). From then on the content is
frozen in `signed_content` and a correction is a new revision (`revision` + 1) that
needs its own sign-offs; the earlier revision stays readable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

MAX_WHYS = 10  # "at least one why, at most as many as needed": ten is plenty
MAX_FACTORS = 20
MAX_ACTION_ITEMS = 50
MAX_TIMELINE_PICKS = 200


class ControlObjective(models.TextChoices):
    """What a contributing factor put at risk (emergency-procedures-handbook.md)."""

    RISK = "risk", "Risk"
    COMPLIANCE = "compliance", "Compliance"
    RESILIENCE = "resilience", "Resilience"
    SECURITY = "security", "Security"
    DATA_INTEGRITY = "data_integrity", "Data integrity"


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


LOCKED_STATES = (ReviewState.APPROVED, ReviewState.PUBLISHED)
PENDING_STATES = (ReviewState.DRAFT, ReviewState.IN_REVIEW)


class ReviewQuerySet(models.QuerySet["PostIncidentReview"]):
    def overdue(self, now: datetime | None = None) -> ReviewQuerySet:
        """Not yet approved and past the due time."""
        return self.filter(
            state__in=PENDING_STATES, due_at__lt=now or timezone.now(), superseded_by=None
        )


class PostIncidentReview(FSMModelMixin, models.Model):
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="reviews"
    )
    revision = models.PositiveSmallIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="The approved revision this one corrects.",
    )
    state = FSMField(
        max_length=16, choices=ReviewState.choices, default=ReviewState.DRAFT, protected=True
    )
    required = models.BooleanField(
        help_text="The incident's severity requires this review to close (else it is offered)."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="resolved_at + the severity's review deadline."
    )
    overdue_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the deadline job recorded the review overdue."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    changes_requested = models.TextField(
        blank=True, help_text="The last reviewer's request for changes."
    )

    # The runbooks' post-mortem template, in order.
    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    timeline_entry_ids = models.JSONField(
        default=list, blank=True, help_text="Ids of the incident timeline entries excerpted."
    )
    whys = models.JSONField(
        default=list, blank=True, help_text='[{"question": ..., "answer": ...}] in order.'
    )
    root_cause = models.TextField(blank=True)
    factors = models.JSONField(
        default=list, blank=True, help_text='[{"description": ..., "objective": ...}]'
    )
    went_well = models.TextField(blank=True)
    went_poorly = models.TextField(blank=True)
    lessons = models.TextField(blank=True)
    verification_plan = models.TextField(blank=True)

    signed_content = models.JSONField(
        null=True, blank=True, help_text="The content as approved (frozen)."
    )

    objects = ReviewQuerySet.as_manager()

    class Meta:
        app_label = "incidents"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "revision"], name="review_one_per_revision")
        ]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["-created_at", "-id"], name="review_list_order"),
        ]
        permissions = [
            ("start_postincidentreview", "Can start a post-incident review"),
            ("submit_postincidentreview", "Can submit a post-incident review for sign-off"),
            ("sign_postincidentreview", "Can sign a post-incident review"),
            ("request_changes_postincidentreview", "Can send a review back to draft"),
            ("publish_postincidentreview", "Can publish an approved review"),
            ("revise_postincidentreview", "Can start a correction of an approved review"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.incident.reference} (rev {self.revision})"

    def get_absolute_url(self) -> str:
        return reverse("incidents:review_detail", args=[self.pk])

    @property
    def is_locked(self) -> bool:
        return self.state in LOCKED_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        return (
            self.state in PENDING_STATES
            and self.due_at is not None
            and (now or timezone.now()) > self.due_at
        )

    # --- lifecycle: guards only; incidents.reviews.services does the rest ---

    @transition(field=state, source=ReviewState.DRAFT, target=ReviewState.IN_REVIEW)
    def submit(self) -> None:
        pass

    @transition(field=state, source=ReviewState.IN_REVIEW, target=ReviewState.DRAFT)
    def request_changes(self) -> None:
        pass

    @transition(field=state, source=ReviewState.IN_REVIEW, target=ReviewState.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=ReviewState.APPROVED, target=ReviewState.PUBLISHED)
    def publish(self) -> None:
        pass


class ActionItem(models.Model):
    """A corrective, preventive or detective action with an owner and a due date.
    Belongs to the incident (it outlives the review); `review` is the revision that
    lists it, when it was made from the review."""

    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", "Corrective"
        PREVENTIVE = "preventive", "Preventive"
        DETECTIVE = "detective", "Detective"

    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="action_items"
    )
    review = models.ForeignKey(
        PostIncidentReview,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="action_items",
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items"
    )
    due_on = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CORRECTIVE)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    status_reason = models.CharField(max_length=500, blank=True)
    link = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "incidents"
        ordering = ["due_on", "position", "id"]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["owner", "status"]),
        ]
        permissions = [("set_status_actionitem", "Can mark an action item done or won't do")]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date | None = None) -> bool:
        return self.status == self.Status.OPEN and self.due_on < (today or timezone.localdate())


def overdue_action_items(today: date | None = None) -> models.QuerySet[ActionItem]:
    return ActionItem.objects.filter(
        status=ActionItem.Status.OPEN, due_on__lt=today or timezone.localdate()
    )


__all__: list[Any] = [
    "ActionItem",
    "ControlObjective",
    "PostIncidentReview",
    "ReviewState",
    "overdue_action_items",
]
