"""The audit trail: one append-only stream of events, hash-chained by a sealer.

`audit_record` inserts an event inside the transaction of its change, unsealed
(`seq`, `prev_hash`, `hash` empty). The sealer (`opsportal.audit.chain.audit_seal`)
links committed events into the chain shortly after they commit: a gapless `seq`,
the previous event's hash, and `hash = SHA-256(canonical JSON ‖ prev_hash)`.
docs/audit.md explains the design and the canonical form. On PostgreSQL, triggers
(migration 0002) refuse every UPDATE but that one-time seal, every DELETE but a
governed purge, and TRUNCATE.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system (scheduled jobs).",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    event_type = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=16, blank=True)
    # The chain, written once by the sealer after the event's transaction committed.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "occurred_at"]),
            # The sealer's queue: unsealed events only (a partial index stays tiny).
            models.Index(
                fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
            models.Index(fields=["actor_username", "id"], name="audit_actor_id_idx"),
            models.Index(fields=["event_type", "id"], name="audit_type_id_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
            models.Index(fields=["object_id"], name="audit_object_id_idx"),
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_key_idx"),
        ]
        permissions = [
            ("export_auditevent", "Can export the audit trail"),
            ("purge_auditevent", "Can request or approve a purge past retention"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: an event is written once by audit_record and never changed.
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


class AuditCheckpoint(models.Model):
    """A signed statement "the chain ran through `last_seq` with `last_hash`", linked
    to the previous checkpoint by its signature. A copy of each is appended to a file
    under MEDIA_ROOT (`opsportal.audit.chain.checkpoint_file`)."""

    last_seq = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    prev_signature = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at seq {self.last_seq}"


class AuditVerification(models.Model):
    """The outcome of one walk of the chain and its checkpoints (`audit_verify`)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    events_checked = models.BigIntegerField(default=0)
    through_seq = models.BigIntegerField(null=True, blank=True)
    # The last checkpoint verified (a number, not a foreign key: the verifier reports
    # on checkpoints, it must not depend on them staying put).
    checkpoint_pk = models.BigIntegerField(null=True, blank=True)
    checkpoint_seq = models.BigIntegerField(null=True, blank=True)
    failed_seq = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.message


class AuditPurge(models.Model):
    """A governed purge: events through `through_seq` (the `anchor` checkpoint's
    last_seq) were deleted; the chain now starts at the anchor."""

    through_seq = models.BigIntegerField()
    anchor = models.ForeignKey(AuditCheckpoint, on_delete=models.PROTECT, related_name="+")
    cutoff = models.DateTimeField()
    purged_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"purge through seq {self.through_seq}"


class AuditExport(models.Model):
    """An auditor's extraction of a time range, built by a Celery job."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    range_start = models.DateTimeField()
    range_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    finished_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.range_start:%Y-%m-%d} to {self.range_end:%Y-%m-%d})"
