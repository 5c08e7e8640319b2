"""Admin: policies are editable (through `approval_policy_save`); requests and
decisions are read-only. The admin is a path where four-eyes must hold, so it offers
no way to add, change or delete a request or a decision around the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from opsportal.accounts.roles import ROLES, role_label
from opsportal.approvals.models import Approval, ApprovalPolicy, ApprovalRequest
from opsportal.approvals.services import (
    approval_policy_check_groups,
    approval_policy_save_in_transaction,
)
from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.core.errors import DomainError


class ApprovalPolicyForm(forms.ModelForm):
    eligible_groups = forms.MultipleChoiceField(
        choices=[(role, role_label(role)) for role in ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Members of these role groups may approve.",
    )
    # The messages state the rule (the service's), not the column's own bound: a
    # PositiveIntegerField alone would answer "≥ 0" to -1 seconds.
    approvals_required = forms.IntegerField(
        min_value=1,
        max_value=10,
        help_text="Approvers needed besides the requester (1 to 10).",
        error_messages={
            "min_value": "At least 1 approver is needed besides the requester.",
            "max_value": "At most 10 approvers.",
        },
    )
    expiry_seconds = forms.IntegerField(
        min_value=60,
        max_value=30 * 24 * 3600,
        help_text="Seconds a request stays open: at least 60 (1 min), at most 30 days.",
        error_messages={
            "min_value": "At least 60 seconds: a request must stay open long enough to decide.",
            "max_value": "At most 2,592,000 seconds (30 days).",
        },
    )

    class Meta:
        model = ApprovalPolicy
        fields = [
            "action",
            "description",
            "approvals_required",
            "eligible_groups",
            "expiry_seconds",
        ]

    def clean(self) -> dict[str, Any]:
        # The service's rule, shown on the field before save_model runs (a refusal
        # there could only be a message next to "changed successfully").
        data = super().clean() or {}
        action = data.get("action") or self.instance.action
        if "eligible_groups" in data and action:
            try:
                approval_policy_check_groups(
                    action=action, eligible_groups=list(data["eligible_groups"])
                )
            except DomainError as exc:
                self.add_error("eligible_groups", exc.message)
        return data


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    form = ApprovalPolicyForm
    list_display = (
        "action",
        "approvals_required",
        "eligible_groups",
        "expiry_seconds",
        "updated_at",
    )
    search_fields = ("action",)

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApprovalPolicy | None = None
    ) -> tuple[str, ...]:
        return ("action",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ApprovalPolicy, form: Any, change: bool
    ) -> None:
        # Through the service: validated and audited like every other write.
        data = form.cleaned_data
        try:
            saved = approval_policy_save_in_transaction(
                actor=request.user,
                action=obj.action,
                approvals_required=data["approvals_required"],
                eligible_groups=list(data["eligible_groups"]),
                expiry_seconds=data["expiry_seconds"],
                description=data.get("description", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class ApprovalInline(admin.TabularInline):
    model = Approval
    fields = ("approver", "decision", "payload_revision", "payload_sha256", "comment", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "action",
        "target_repr",
        "requester",
        "status",
        "created_at",
        "expires_at",
    )
    list_filter = ("status", "action")
    search_fields = ("action", "target_repr", "requester__username", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("requester",)
    readonly_fields = [f.name for f in ApprovalRequest._meta.fields]
    inlines = [ApprovalInline]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ("request", "approver", "decision", "payload_revision", "at")
    list_filter = ("decision",)
    list_select_related = ("request", "approver")
    readonly_fields = [f.name for f in Approval._meta.fields]

    def get_actions(self, request: Any) -> dict:
        return {}
