"""Admin: admins manage time sources and configuration targets (what to check,
limits, intervals, environments guarded). Verdicts, checks and findings are
read-only: only the drift services write them. Each save is audited in the admin's
transaction."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from opsportal.audit.services import audit_record
from opsportal.drift.models import ClockCheck, ConfigFinding, ConfigTarget, TimeSource


class _AuditedAdmin(admin.ModelAdmin):
    created_event = ""
    updated_event = ""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            event_type=self.updated_event if change else self.created_event,
            obj=obj,
            after={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
        )


@admin.register(TimeSource)
class TimeSourceAdmin(_AuditedAdmin):
    created_event = "time_source.created"
    updated_event = "time_source.updated"
    list_display = ("name", "kind", "status", "neutral_reason", "last_offset_ms", "last_check_at")
    list_filter = ("kind", "status", "enabled")
    filter_horizontal = ("environments",)
    readonly_fields = (
        "status",
        "last_check_at",
        "last_good_check_at",
        "last_offset_ms",
        "last_error_ms",
        "healthy_streak",
        "neutral_reason",
        "incident_id",
        "next_due_at",
    )


@admin.register(ClockCheck)
class ClockCheckAdmin(admin.ModelAdmin):
    list_display = ("source", "checked_at", "status", "offset_ms", "error_ms", "rtt_ms")
    list_filter = ("status", "source")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConfigTarget)
class ConfigTargetAdmin(_AuditedAdmin):
    created_event = "config_target.created"
    updated_event = "config_target.updated"
    list_display = ("environment", "location", "format", "last_status", "last_check_at")
    readonly_fields = (
        "baseline_sha256",
        "baseline_set_at",
        "baseline_approval_request_id",
        "last_check_at",
        "last_status",
        "incident_id",
        "next_due_at",
    )


@admin.register(ConfigFinding)
class ConfigFindingAdmin(admin.ModelAdmin):
    list_display = ("target", "opened_at", "resolved_at", "incident_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
