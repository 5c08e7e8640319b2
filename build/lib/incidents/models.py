"""Incidents: the record, its lifecycle, response roles, timeline and status updates.

The lifecycle is declared once here as a protected django-fsm-2 field; the
transitions only guard and change the field. Everything else a transition does
(timestamps, timeline entry, audit event) happens in `incidents.services`.

    detected -> acknowledged -> investigating -> mitigating -> monitoring -> resolved -> closed
    detected | acknowledged | investigating -> declined      (false positive)
    resolved -> investigating                                  (reopen)

Shortcuts the runbooks allow: acknowledged -> mitigating (stop the bleeding before
diagnosis), investigating | mitigating -> resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from incidents.severity import SEVERITIES, SEVERITY_CHOICES, Severity


class Status(models.TextChoices):
    DETECTED = "detected", "Detected"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATING = "mitigating", "Mitigating"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    DECLINED = "declined", "Declined (false positive)"


# Open = someone still has to work on it. Resolved incidents are not open (the
# fire is out) but are not finished either until closed.
OPEN_STATUSES = (
    Status.DETECTED,
    Status.ACKNOWLEDGED,
    Status.INVESTIGATING,
    Status.MITIGATING,
    Status.MONITORING,
)
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.DECLINED)
EARLY_STATUSES = (Status.DETECTED, Status.ACKNOWLEDGED, Status.INVESTIGATING)


@dataclass(frozen=True)
class ReviewRequirement:
    """Whether an incident's post-incident review allows closing it (`satisfied`),
    whether one is `required` at all, and a sentence saying why."""

    required: bool
    satisfied: bool
    reason: str


def _review_allows_close(incident: models.Model) -> bool:
    # django-fsm types a condition as taking any model; this one guards Incident.close.
    assert isinstance(incident, Incident)
    return incident.review_requirement().satisfied


class IncidentQuerySet(models.QuerySet["Incident"]):
    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def sla_breached(self, now: datetime | None = None) -> IncidentQuerySet:
        """Not acknowledged within the response SLA: acknowledged late, or still
        unacknowledged past the deadline (declined incidents excepted)."""
        now = now or timezone.now()
        return self.exclude(status=Status.DECLINED).filter(
            models.Q(acknowledged_at__isnull=True, ack_due_at__lt=now)
            | models.Q(acknowledged_at__gt=models.F("ack_due_at"))
        )

    def sla_breaching_now(self, now: datetime | None = None) -> IncidentQuerySet:
        """Open and still unacknowledged past the SLA: needs someone right now."""
        now = now or timezone.now()
        return self.open().filter(acknowledged_at__isnull=True, ack_due_at__lt=now)

    def update_overdue(self, now: datetime | None = None) -> IncidentQuerySet:
        """Open incidents whose next status update is past due."""
        now = now or timezone.now()
        return self.open().filter(next_update_due_at__lt=now)


class Incident(FSMModelMixin, models.Model):
    reference = models.CharField(
        max_length=20, unique=True, editable=False, help_text="INC-YYYYMMDD-NNN"
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    severity = models.CharField(max_length=4, choices=SEVERITY_CHOICES, db_index=True)
    status = FSMField(
        max_length=16, choices=Status.choices, default=Status.DETECTED, protected=True
    )
    environment = models.ForeignKey(
        "controls.Environment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )

    # Impact
    trading_halted = models.BooleanField(default=False)
    pnl_impact = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Profit and loss impact; negative is a loss.",
    )
    pnl_currency = models.CharField(max_length=3, default="USD")
    # The column is a PostgreSQL integer: forms, serializers and services bound
    # input to MAX_ORDERS_AFFECTED so a larger number is a 400, never a DataError.
    orders_affected = models.PositiveIntegerField(null=True, blank=True)
    affected_systems = models.CharField(max_length=300, blank=True)

    # When and by whom. The *_at of a phase is when the incident last entered it.
    detected_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    investigating_at = models.DateTimeField(null=True, blank=True)
    investigating_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mitigated_at = models.DateTimeField(
        null=True, blank=True, help_text="When mitigation started (entered 'mitigating')."
    )
    mitigated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    monitoring_at = models.DateTimeField(null=True, blank=True)
    monitoring_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_count = models.PositiveIntegerField(default=0)

    # Deadlines, stored so the dashboard finds breaches with one indexed query.
    ack_due_at = models.DateTimeField(help_text="detected_at + the severity's response SLA.")
    next_update_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the next status update is due; empty when none is (no cadence, "
        "or the incident is resolved).",
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["status", "ack_due_at"]),
            models.Index(fields=["status", "next_update_due_at"]),
            # The list's keyset pagination walks (detected_at, id) newest first
            # (selectors.incident_page). Text search has PostgreSQL-only trigram
            # indexes, made by migration 0003 outside the model state.
            models.Index(fields=["-detected_at", "-id"], name="incident_list_order"),
        ]
        permissions = [
            ("acknowledge_incident", "Can acknowledge an incident"),
            ("investigate_incident", "Can move an incident to investigating"),
            ("mitigate_incident", "Can move an incident to mitigating"),
            ("monitor_incident", "Can move an incident to monitoring"),
            ("resolve_incident", "Can resolve an incident"),
            ("close_incident", "Can close an incident"),
            ("decline_incident", "Can decline an incident (false positive)"),
            ("reopen_incident", "Can reopen a resolved incident"),
            ("change_severity_incident", "Can change an incident's severity"),
            ("assign_role_incident", "Can assign incident response roles"),
            ("post_status_update_incident", "Can post incident status updates"),
            ("add_note_incident", "Can add notes to an incident timeline"),
            ("add_record_incident", "Can record commands and evidence on an incident"),
            ("attach_playbook_incident", "Can attach a playbook checklist to an incident"),
            ("tick_checklist_incident", "Can tick an incident's checklist items"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    # --- derived values (no queries) ---

    @property
    def sev(self) -> Severity:
        return SEVERITIES[self.severity]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return self.acknowledged_at - self.detected_at if self.acknowledged_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.detected_at if self.resolved_at else None

    def sla_breached(self, now: datetime | None = None) -> bool:
        if self.status == Status.DECLINED:
            return False
        if self.acknowledged_at is not None:
            return self.acknowledged_at > self.ack_due_at
        return (now or timezone.now()) > self.ack_due_at

    def update_overdue(self, now: datetime | None = None) -> bool:
        return (
            self.is_open
            and self.next_update_due_at is not None
            and (now or timezone.now()) > self.next_update_due_at
        )

    def review_requirement(self) -> ReviewRequirement:
        """The one place that says whether this incident may close as far as the
        post-incident review is concerned (the `close` transition's condition; the
        services and pages ask it for the reason).

        Rule (incident-response-playbook-sev-levels.md "Post-Mortem Requirements"):
        SEV1 needs a review within 48 h and SEV2 within a week; SEV3's is optional and
        SEV4 needs none. The post-incident review model arrives in a later issue;
        until then no review can be approved, so SEV1/SEV2 incidents cannot close and
        SEV3/SEV4 may.
        """
        sev = self.sev
        if not sev.review_required:
            return ReviewRequirement(False, True, f"{sev.code} needs no post-incident review.")
        return ReviewRequirement(
            True,
            False,
            f"{sev.code} ({sev.alias}) can close only after its post-incident review is approved.",
        )

    # --- lifecycle: guards only; incidents.services does the rest ---

    @transition(
        field=status,
        source=Status.DETECTED,
        target=Status.ACKNOWLEDGED,
        permission="incidents.acknowledge_incident",
        custom={"label": "Acknowledge", "verb": "acknowledge", "done": "acknowledged"},
    )
    def acknowledge(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.ACKNOWLEDGED,
        target=Status.INVESTIGATING,
        permission="incidents.investigate_incident",
        custom={
            "label": "Start investigating",
            "verb": "investigate",
            "done": "is under investigation",
        },
    )
    def investigate(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.ACKNOWLEDGED, Status.INVESTIGATING],
        target=Status.MITIGATING,
        permission="incidents.mitigate_incident",
        custom={"label": "Start mitigating", "verb": "mitigate", "done": "is being mitigated"},
    )
    def mitigate(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.MITIGATING,
        target=Status.MONITORING,
        permission="incidents.monitor_incident",
        custom={
            "label": "Mitigated: start monitoring",
            "verb": "monitor",
            "done": "mitigated; now monitoring",
        },
    )
    def monitor(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.INVESTIGATING, Status.MITIGATING, Status.MONITORING],
        target=Status.RESOLVED,
        permission="incidents.resolve_incident",
        custom={"label": "Resolve", "verb": "resolve", "done": "resolved"},
    )
    def resolve(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.CLOSED,
        permission="incidents.close_incident",
        conditions=[_review_allows_close],
        custom={"label": "Close", "verb": "close", "done": "closed", "confirm": True},
    )
    def close(self) -> None:
        pass

    @transition(
        field=status,
        source=list(EARLY_STATUSES),
        target=Status.DECLINED,
        permission="incidents.decline_incident",
        custom={
            "label": "Decline (false positive)",
            "verb": "decline",
            "done": "declined as a false alarm",
            "confirm": True,
        },
    )
    def decline(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.INVESTIGATING,
        permission="incidents.reopen_incident",
        custom={"label": "Reopen", "verb": "reopen", "done": "reopened", "confirm": True},
    )
    def reopen(self) -> None:
        pass


class IncidentSequence(models.Model):
    """The last reference number handed out per UTC day. Incremented with one
    atomic upsert (see services._next_reference), so concurrent openings never
    share a number."""

    day = models.DateField(primary_key=True)
    last_number = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.day}: {self.last_number}"


MAX_ORDERS_AFFECTED = 2_147_483_647  # PostgreSQL integer


class ResponseRole(models.TextChoices):
    INCIDENT_COMMANDER = "incident_commander", "Incident commander"
    TECHNICAL_LEAD = "technical_lead", "Technical lead"
    COMMUNICATIONS_LEAD = "communications_lead", "Communications lead"
    SCRIBE = "scribe", "Scribe"
    RISK_OFFICER = "risk_officer", "Risk officer"
    SME = "sme", "Subject-matter expert"


class RoleAssignment(models.Model):
    """Who held a response role from when to when. Every role but SME has at most
    one current holder; assigning someone else ends the current assignment (a
    hand-off), so history stays."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=32, choices=ResponseRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["incident", "role", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=models.Q(ended_at__isnull=True) & ~models.Q(role="sme"),
                name="one_current_holder_per_role",
            ),
            models.UniqueConstraint(
                fields=["incident", "role", "user"],
                condition=models.Q(ended_at__isnull=True),
                name="one_current_assignment_per_user_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Timeline entries and status updates are written once and never changed."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model._meta.verbose_name_plural} are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model._meta.verbose_name_plural} are append-only")


class TimelineEntry(models.Model):
    """One line of an incident's append-only timeline."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", "Transition"
        ROLE_CHANGE = "role_change", "Role change"
        STATUS_UPDATE = "status_update", "Status update"
        SEVERITY_CHANGE = "severity_change", "Severity change"
        NOTE = "note", "Note"
        COMMAND = "command", "Command run"
        EVIDENCE = "evidence", "Evidence"
        CONTROL = "control", "Control event"
        PLAYBOOK = "playbook", "Playbook"
        IMPACT = "impact", "Impact change"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system.",
    )
    body = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "occurred_at", "id"]
        indexes = [models.Index(fields=["incident", "occurred_at"])]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("timeline entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("timeline entries are append-only")


class StatusUpdate(models.Model):
    """A status message posted from one of the three templates. `body` is the text
    as rendered and sent; `fields` keeps the author's input."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial alert"
        UPDATE = "update", "Status update"
        RESOLUTION = "resolution", "Resolution notice"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="status_updates")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField()
    fields = models.JSONField(default=dict, blank=True)
    posted_at = models.DateTimeField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_update_due_at = models.DateTimeField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "-posted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.posted_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("status updates are append-only")
        super().save(*args, **kwargs)
