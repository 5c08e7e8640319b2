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


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class NotificationPreference(models.Model):
    """A person's choice of channels for one kind. No row: the kind's default
    (in-app always; email on for the kinds registered with `email_default=True`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=64)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: email={'on' if self.email else 'off'}"


class WebhookEndpoint(models.Model):
    """A team channel (Slack / Mattermost incoming webhook), managed by admins. Each
    event of a subscribed kind is POSTed once, signed with `secret` (HMAC-SHA256 of
    the body in the `X-Opsportal-Signature` header, "sha256=<hex>")."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    # Registered kind codes; empty: every kind.
    kinds = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return self.enabled and (not self.kinds or kind in self.kinds)


class Delivery(models.Model):
    """One message on one channel: queued on commit, delivered by a Celery task,
    retried with backoff while it fails. Nothing is ever dropped: a delivery stays
    queued/failed (and the sweeper re-queues it) until it is sent or an admin gives up."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"
        GAVE_UP = "gave_up", "Failed (gave up)"

    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=64)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    to = models.CharField(max_length=500)  # an email address or the webhook URL
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=URL_MAX, blank=True, default="")
    dedupe_key = models.CharField(max_length=DEDUPE_KEY_MAX, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "kind", "dedupe_key"],
                condition=~Q(dedupe_key="") & Q(endpoint__isnull=False),
                name="delivery_webhook_dedupe",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "failed"]),
                name="delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} → {self.to} ({self.status})"
