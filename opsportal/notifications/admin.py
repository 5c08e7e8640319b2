"""Admin: webhooks (admin-managed channels) and the delivery record.

Notifications and deliveries are written by the portal only (read-only here); a
delivery that gave up can be re-queued. Webhook changes are audited (the secret is
never written to the audit trail).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from opsportal.audit.services import audit_record
from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.notifications.models import Delivery, Notification, WebhookEndpoint
from opsportal.notifications.tasks import enqueue


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "channel", "kind", "to", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("to", "title", "last_error")
    actions = ["requeue"]

    @admin.action(description="Re-queue the selected deliveries (not sent ones only)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        if not request.user.has_perm("notifications.change_delivery"):
            messages.error(request, "You may not re-queue deliveries.")
            return
        with transaction.atomic():
            rows = list(queryset.exclude(status=Delivery.Status.SENT).select_for_update())
            ids = [row.pk for row in rows]
            queryset.filter(pk__in=ids).update(status=Delivery.Status.QUEUED, next_attempt_at=None)
            for row in rows:
                audit_record(actor=request.user, event_type="notification.requeued", obj=row)
            transaction.on_commit(lambda: enqueue(ids))
        messages.success(request, f"{len(ids)} deliveries re-queued.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "enabled")

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            event_type="notification.webhook_saved",
            obj=obj,
            metadata={
                "url": obj.url,
                "kinds": obj.kinds,
                "enabled": obj.enabled,
                "changed": [f for f in form.changed_data if f != "secret"],
                "secret_changed": "secret" in form.changed_data,
            },
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        audit_record(actor=request.user, event_type="notification.webhook_deleted", obj=obj)
        super().delete_model(request, obj)
