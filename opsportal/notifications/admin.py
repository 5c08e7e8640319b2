from django.contrib import admin

from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: notifications are written by the portal, never by hand."""

    list_display = ("created_at", "recipient", "kind", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username")
