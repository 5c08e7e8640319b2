from django.contrib import admin

from opsportal.audit.models import AuditEvent
from opsportal.core.admin_mixins import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: auditors browse and filter; nobody adds, changes or deletes."""

    list_display = ("occurred_at", "event_type", "actor_username", "object_repr", "source", "ip")
    list_filter = ("event_type", "source", "object_type")
    search_fields = ("event_type", "actor_username", "object_repr", "object_id", "request_id")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
