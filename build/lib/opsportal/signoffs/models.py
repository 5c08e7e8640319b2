"""Sign-offs: attestations on the exact content of a record (reusable by any app).

A `Signoff` points at any model instance (generic target) and records who signed,
in which role, when, with what comment, and the SHA-256 of the canonical content
they saw. Voided sign-offs stay (with the reason) so the history is kept; the
constraints apply to the live ones: one signer per role, one role per signer.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models

__all__ = ["Signoff"]


class Signoff(models.Model):
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    role = models.CharField(max_length=32)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signoffs"
    )
    signed_at = models.DateTimeField()
    comment = models.TextField(blank=True)
    content_sha256 = models.CharField(max_length=64)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "drills_signoff"  # the table predates the signoffs app (moved from drills)
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id", "role"],
                condition=models.Q(voided_at__isnull=True),
                name="signoff_one_live_per_role",
            ),
            models.UniqueConstraint(
                fields=["target_type", "target_id", "signer"],
                condition=models.Q(voided_at__isnull=True),
                name="signoff_one_live_role_per_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} by {self.signer} on {self.target_type.model} {self.target_id}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None
