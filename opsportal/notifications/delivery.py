"""Sending one Delivery on its channel: email through Django's email backend (SMTP
settings from the environment), webhooks as a JSON POST that Slack and Mattermost
incoming webhooks accept, signed with the endpoint's secret.

`deliver_one` is safe to run twice and from two workers at once: it locks the row
(`SKIP LOCKED`), sends only a delivery that is not sent yet, and records the outcome
in the same transaction. A failure records the error and the next attempt time
(exponential backoff); the sweeper (`due_delivery_ids`) re-queues it then, so an
SMTP, webhook or Redis outage delays a message and never drops it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opsportal.audit.services import audit_record
from opsportal.notifications.models import Channel, Delivery

# Backoff: 30 s, 1 min, 2 min, ... capped at 15 min; an admin sees "gave up" after
# MAX_ATTEMPTS (about 11 hours of trying) and can re-queue it from the admin.
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 15 * 60
MAX_ATTEMPTS = 50
SIGNATURE_HEADER = "X-Opsportal-Signature"
ERROR_MAX = 2_000


def backoff_seconds(attempts: int) -> int:
    """Wait before the next attempt after `attempts` failed ones (1 -> 30 s)."""
    return int(min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def sign(secret: str, body: bytes) -> str:
    """The signature header value: "sha256=" + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def absolute(url: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{url}" if url.startswith("/") else url


def email_text(row: Delivery) -> str:
    parts = [row.body.strip()] if row.body.strip() else []
    if row.url:
        parts.append(f"Open in opsportal: {absolute(row.url)}")
    parts.append("You receive this because of your notification settings in opsportal.")
    return "\n\n".join(parts) + "\n"


def webhook_payload(row: Delivery) -> dict[str, Any]:
    """Slack/Mattermost `text` (mrkdwn) plus the structured fields for other receivers."""
    link = absolute(row.url) if row.url else ""
    text = f"*{row.title}*"
    if row.body:
        text += f"\n{row.body}"
    if link:
        text += f"\n<{link}|Open in opsportal>"
    return {
        "text": text,
        "username": "opsportal",
        "kind": row.kind,
        "title": row.title,
        "body": row.body,
        "url": link,
        "delivery": row.pk,
    }


def _send_email(row: Delivery) -> None:
    EmailMessage(
        subject=f"[opsportal] {row.title}",
        body=email_text(row),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={"X-Opsportal-Kind": row.kind, "X-Opsportal-Delivery": str(row.pk)},
    ).send(fail_silently=False)


def _send_webhook(row: Delivery) -> None:
    if row.endpoint is None or not row.to.startswith(("http://", "https://")):
        raise ValueError("webhook delivery without an http(s) endpoint")
    body = json.dumps(webhook_payload(row), separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above (http/https only)
        row.to,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(row.endpoint.secret, body),
            "X-Opsportal-Delivery": str(row.pk),
        },
    )
    timeout = settings.NOTIFICATIONS_WEBHOOK_TIMEOUT
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - as above
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(row.to, response.status, "not 2xx", response.headers, None)


SENDERS = {Channel.EMAIL: _send_email, Channel.WEBHOOK: _send_webhook}


def deliver_one(delivery_id: int, *, now: dt.datetime | None = None) -> str:
    """Try to send delivery `delivery_id` once; returns its status afterwards, or
    "skipped" when it is sent, given up, not due or being sent by another worker."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        row = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status__in=[Delivery.Status.QUEUED, Delivery.Status.FAILED])
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .first()
        )
        if row is None:
            return "skipped"
        row.attempts += 1
        try:
            SENDERS[Channel(row.channel)](row)
        except Exception as exc:  # noqa: BLE001 - any failure to send is recorded and retried
            row.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = Delivery.Status.GAVE_UP
                row.next_attempt_at = None
            else:
                row.status = Delivery.Status.FAILED
                row.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(row.attempts))
            event = "notification.delivery_failed"
        else:
            row.status = Delivery.Status.SENT
            row.sent_at = timezone.now()
            row.next_attempt_at = None
            event = "notification.delivered"
        row.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"])
        audit_record(
            actor=None,
            event_type=event,
            obj=row,
            metadata={
                "channel": row.channel,
                "kind": row.kind,
                "attempts": row.attempts,
                "error": row.last_error if event.endswith("failed") else "",
            },
        )
        return row.status


def due_delivery_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries waiting to be (re)tried: queued or failed, and due."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status__in=[Delivery.Status.QUEUED, Delivery.Status.FAILED])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
