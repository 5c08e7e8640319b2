"""Admin for incidents: read-only. Every change to an incident goes through
incidents.services (the browser pages call them), so transitions, timeline and audit
stay consistent; the admin is for browsing and searching."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from incidents.alerts.views import hash_token
from incidents.models import (
    Alert,
    AlertIntegration,
    AlertKillSwitchRule,
    Incident,
    IncidentSequence,
    RoleAssignment,
    SeverityPolicy,
    StatusUpdate,
    TimelineEntry,
)
from incidents.policies import (
    severity_policy_load_alternative_in_transaction,
    severity_policy_load_default_in_transaction,
    severity_policy_publish_in_transaction,
)
from incidents.severity import (
    DEFAULT_POLICY_LABEL,
    SEVERITIES,
    PolicyError,
    severities_from_json,
    severities_to_json,
)
from opsportal.audit.services import audit_record
from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.core.errors import DomainError
from opsportal.core.text import NOTE_MAX


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


class SeverityPolicyForm(forms.ModelForm):
    """Publishing a new version: the levels as JSON (prefilled from the current
    version), validated by incidents.policies (errors name the field)."""

    levels = forms.JSONField(
        help_text=(
            "Per severity: response_seconds, update_cadence_seconds (null: none), "
            "review_required, review_due_seconds, escalation (a list of "
            '{"after_seconds", "roles", "users"}, after_seconds counted from detection).'
        ),
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100}),
    )
    label = forms.CharField(max_length=200)
    note = forms.CharField(max_length=NOTE_MAX, required=False, widget=forms.Textarea)

    class Meta:
        model = SeverityPolicy
        fields = ("label", "note", "levels")

    def clean_levels(self) -> Any:
        levels = self.cleaned_data["levels"]
        try:
            severities_from_json(levels)
        except PolicyError as exc:
            raise ValidationError(f"{exc.field}: {exc.message}.") from None
        return levels


@admin.register(SeverityPolicy)
class SeverityPolicyAdmin(admin.ModelAdmin):
    """Versions are records: they are never edited or deleted. "Add" publishes a new
    current version; the actions publish the shipped default or the alternative."""

    form = SeverityPolicyForm
    list_display = ("version", "label", "is_current", "created_at", "created_by")
    actions = ["load_alternative", "load_default"]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        current = SeverityPolicy.objects.filter(is_current=True).first()
        if current is None:
            return {"label": DEFAULT_POLICY_LABEL, "levels": severities_to_json(SEVERITIES)}
        return {"label": current.label, "levels": current.levels}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the service (inside the admin's transaction): validated and audited.
        data = form.cleaned_data
        try:
            saved = severity_policy_publish_in_transaction(
                label=data["label"], levels=data["levels"], note=data["note"], actor=request.user
            )
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        obj.pk = saved.pk
        obj.version = saved.version

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.save(commit=False)

    @admin.action(description="Publish the SEV-levels playbook's values (SEV1 in 15 min)")
    def load_alternative(self, request: HttpRequest, queryset: Any) -> None:
        if not request.user.has_perm("incidents.add_severitypolicy"):
            messages.error(request, "You may not publish severity policies.")
            return
        policy = severity_policy_load_alternative_in_transaction(actor=request.user)
        messages.success(request, f"Published {policy}.")

    @admin.action(description="Publish the shipped default values (SEV1 in 5 min)")
    def load_default(self, request: HttpRequest, queryset: Any) -> None:
        if not request.user.has_perm("incidents.add_severitypolicy"):
            messages.error(request, "You may not publish severity policies.")
            return
        policy = severity_policy_load_default_in_transaction(actor=request.user)
        messages.success(request, f"Published {policy}.")


class AlertIntegrationForm(forms.ModelForm):
    token = forms.CharField(
        required=False,
        max_length=200,
        min_length=24,
        help_text="Leave empty to keep the current token (a new integration gets one "
        "generated and shown once).",
    )
    severity_map = forms.JSONField(
        required=False,
        help_text='Label value → severity, e.g. {"critical": "SEV1", "warning": "SEV3"}; '
        "empty: the built-in mapping.",
    )

    class Meta:
        model = AlertIntegration
        fields = (
            "name",
            "source",
            "enabled",
            "environment",
            "severity_label",
            "severity_map",
            "default_severity",
        )

    def clean_severity_map(self) -> Any:
        value = self.cleaned_data.get("severity_map") or {}
        if not isinstance(value, dict) or any(
            not isinstance(k, str) or v not in SEVERITIES for k, v in value.items()
        ):
            raise ValidationError("An object of label value → SEV1..SEV4.")
        return value


@admin.register(AlertIntegration)
class AlertIntegrationAdmin(admin.ModelAdmin):
    form = AlertIntegrationForm
    list_display = ("name", "source", "enabled", "environment", "created_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raw = form.cleaned_data.get("token") or ""
        if not change and not raw:
            raw = secrets.token_urlsafe(32)
            messages.warning(request, f"The token of {obj.name} (shown once): {raw}")
        if raw:
            obj.token_sha256 = hash_token(raw)
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            event_type="alert_integration.saved",
            obj=obj,
            metadata={
                "changed": [f for f in form.changed_data if f != "token"],
                "token_changed": bool(raw),
            },
        )


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("name", "fingerprint", "state", "incident", "last_received_at")
    list_filter = ("state",)


@admin.register(AlertKillSwitchRule)
class AlertKillSwitchRuleAdmin(admin.ModelAdmin):
    list_display = ("alert_name", "environment", "reason_code", "enabled")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            event_type="alert_kill_rule.saved",
            obj=obj,
            after={
                "alert_name": obj.alert_name,
                "environment": obj.environment_id,
                "reason_code": obj.reason_code,
                "enabled": obj.enabled,
            },
        )
