"""Admin: admins manage environments (descriptive fields and cooldown) and gate tokens.

Mode and kill switch are read-only here: they change only through the services
(kill switch, approvals), never by editing a row. Tokens are issued with
`manage.py issue_gate_token` (the raw token is printed once) and revoked here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from opsportal.controls import services
from opsportal.controls.models import (
    ApiToken,
    Environment,
    GateToken,
    KillSwitchEvent,
    ModeChange,
)


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "venue", "mode", "kill_switch", "version", "last_verified_at")
    search_fields = ("slug", "name", "venue")
    fields = (
        "slug",
        "name",
        "venue",
        "description",
        "recovery_cooldown_seconds",
        "mode",
        "mode_changed_at",
        "dry_run_since",
        "last_rollback_at",
        "kill_switch",
        "killed_at",
        "kill_reason_code",
        "last_verified_at",
        "resume_request_id",
        "version",
    )
    readonly_fields = (
        "mode",
        "mode_changed_at",
        "dry_run_since",
        "last_rollback_at",
        "kill_switch",
        "killed_at",
        "kill_reason_code",
        "last_verified_at",
        "resume_request_id",
        "version",
    )

    def save_model(self, request: Any, obj: Environment, form: Any, change: bool) -> None:
        # The admin's change form runs in its own transaction: compose into it.
        services.environment_save_in_transaction(
            environment=obj, actor=request.user, created=not change
        )

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class _ReadOnlyHistory(admin.ModelAdmin):
    list_select_related = ("environment", "actor")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(KillSwitchEvent)
class KillSwitchEventAdmin(_ReadOnlyHistory):
    list_display = (
        "occurred_at",
        "environment",
        "kind",
        "from_state",
        "to_state",
        "reason_code",
        "actor",
        "is_drill",
    )
    list_filter = ("kind", "reason_code", "is_drill", "environment")


@admin.register(ModeChange)
class ModeChangeAdmin(_ReadOnlyHistory):
    list_display = ("occurred_at", "environment", "kind", "from_mode", "to_mode", "actor")
    list_filter = ("kind", "environment")


@admin.register(GateToken)
class GateTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "environment", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("environment",)
    search_fields = ("name", "prefix")
    readonly_fields = (
        "name",
        "environment",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        # Issued with `manage.py issue_gate_token`, which prints the raw token once.
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_tokens(self, request: Any, queryset: Any) -> None:
        count = 0
        for token in queryset:
            services.gate_token_revoke(token_id=token.pk, actor=request.user)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        # Issued with `manage.py issue_api_token`, which prints the raw token once.
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_tokens(self, request: Any, queryset: Any) -> None:
        count = 0
        for token in queryset:
            services.api_token_revoke(token_id=token.pk, actor=request.user)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
