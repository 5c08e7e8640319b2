"""Admin for drill schedules, runs and sign-offs.

Schedules are managed here by admins; saving goes through the schedule services
(audited). Runs and sign-offs are records made through the portal's pages and
services: read-only here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from drills.models import (
    DrillActionItem,
    DrillPreCheckItem,
    DrillRun,
    DrillSchedule,
    DrillStepResult,
)
from drills.services.schedules import (
    drill_schedule_create_in_transaction,
    drill_schedule_mark_due,
    drill_schedule_update_in_transaction,
)
from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.core.errors import DomainError


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(DrillSchedule)
class DrillScheduleAdmin(admin.ModelAdmin):
    list_display = (
        "procedure",
        "environment",
        "frequency",
        "first_due_on",
        "manual_due_on",
        "is_active",
    )
    list_filter = ("frequency", "is_active", "environment")
    list_select_related = ("procedure", "environment")
    fields = (
        "procedure",
        "environment",
        "frequency",
        "first_due_on",
        "is_active",
        "manual_due_on",
        "manual_due_reason",
    )
    readonly_fields = ("manual_due_on", "manual_due_reason")
    actions = ["mark_due_today"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: DrillSchedule | None = None
    ) -> tuple[str, ...]:
        # The pair is the schedule's identity; change it by making another schedule.
        extra = ("procedure", "environment") if obj is not None else ()
        return (*self.readonly_fields, *extra)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            # The admin's change form runs in its own transaction: compose into it.
            if change:
                saved = drill_schedule_update_in_transaction(
                    schedule_id=obj.pk,
                    actor=request.user,
                    frequency=data["frequency"],
                    first_due_on=data["first_due_on"],
                    is_active=data["is_active"],
                )
            else:
                saved = drill_schedule_create_in_transaction(
                    procedure=data["procedure"],
                    environment=data["environment"],
                    frequency=data["frequency"],
                    first_due_on=data["first_due_on"],
                    actor=request.user,
                )
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk

    @admin.action(description="Mark due today (after a major change)")
    def mark_due_today(self, request: HttpRequest, queryset: Any) -> None:
        for schedule in queryset:
            drill_schedule_mark_due(
                schedule_id=schedule.pk,
                due_on=timezone.now().date(),
                reason=f"Major change: marked due in the admin by {request.user}.",
                actor=request.user,
            )
        messages.success(request, f"{queryset.count()} schedule(s) marked due today.")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StepResultInline(ReadOnlyInline):
    model = DrillStepResult
    fields = ("position", "step", "outcome", "measured_ms", "outcome_reason", "performed_by")
    readonly_fields = fields


class PreCheckInline(ReadOnlyInline):
    model = DrillPreCheckItem
    fields = ("position", "text", "done_by", "done_at")
    readonly_fields = fields


class ActionItemInline(ReadOnlyInline):
    model = DrillActionItem
    fields = ("title", "owner", "due_on", "status")
    readonly_fields = fields


@admin.register(DrillRun)
class DrillRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "procedure_version",
        "environment",
        "state",
        "result",
        "lead",
        "planned_at",
        "completed_at",
    )
    list_filter = ("state", "result", "environment")
    list_select_related = ("procedure_version", "environment", "lead")
    date_hierarchy = "planned_at"
    inlines = [PreCheckInline, StepResultInline, ActionItemInline]
