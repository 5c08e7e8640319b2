"""Admin for incidents: read-only. Every change to an incident goes through
incidents.services (the browser pages call them), so transitions, timeline and audit
stay consistent; the admin is for browsing and searching."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from incidents.models import Incident, IncidentSequence, RoleAssignment, StatusUpdate, TimelineEntry
from opsportal.core.admin_mixins import ReadOnlyAdminMixin


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class TimelineInline(ReadOnlyInline):
    model = TimelineEntry
    fields = ("occurred_at", "kind", "author", "body")
    readonly_fields = fields


class RoleInline(ReadOnlyInline):
    model = RoleAssignment
    fields = ("role", "user", "started_at", "ended_at")
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "severity", "status", "title", "environment", "detected_at")
    list_filter = ("severity", "status", "environment", "trading_halted")
    search_fields = ("reference", "title", "summary", "affected_systems")
    date_hierarchy = "detected_at"
    list_select_related = ("environment",)
    inlines = [RoleInline, TimelineInline]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    """Append-only: no add, change or delete, for anyone."""

    list_display = ("occurred_at", "incident", "kind", "author", "body")
    list_filter = ("kind",)
    search_fields = ("incident__reference", "body")
    list_select_related = ("incident", "author")


@admin.register(StatusUpdate)
class StatusUpdateAdmin(ReadOnlyAdmin):
    list_display = ("posted_at", "incident", "kind", "posted_by", "next_update_due_at")
    list_filter = ("kind",)
    search_fields = ("incident__reference", "body")
    list_select_related = ("incident", "posted_by")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("incident", "role", "user", "started_at", "ended_at")
    list_filter = ("role",)
    search_fields = ("incident__reference", "user__username")
    list_select_related = ("incident", "user")


@admin.register(IncidentSequence)
class IncidentSequenceAdmin(ReadOnlyAdmin):
    list_display = ("day", "last_number")
