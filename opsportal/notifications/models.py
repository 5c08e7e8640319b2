"""In-app notifications: one row per recipient and event."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

TITLE_MAX = 200
BODY_MAX = 4_000
URL_MAX = 500
DEDUPE_KEY_MAX = 200


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=URL_MAX, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Same (recipient, kind, dedupe_key) twice is one notification ("" = no dedupe).
    dedupe_key = models.CharField(max_length=DEDUPE_KEY_MAX, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_dedupe_per_recipient",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}: {self.title}"
