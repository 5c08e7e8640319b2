"""API representations of approval requests, and the inputs of each write."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.approvals.registry import all_actions
from opsportal.approvals.selectors import approval_preconditions
from opsportal.core.api import password_input, text_input
from opsportal.core.text import COMMENT_MAX, REASON_MAX


class ApprovalDecisionSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username", read_only=True)

    class Meta:
        model = Approval
        fields = ["approver", "decision", "payload_sha256", "payload_revision", "comment", "at"]
        read_only_fields = fields


class PreconditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    # DRF's metaclass moves declared fields off the class, so this does not replace
    # Field.label at runtime; the stubs cannot know that.
    label = serializers.CharField()  # type: ignore[assignment]
    passed = serializers.BooleanField()
    detail = serializers.CharField()


class ApprovalRequestSerializer(serializers.ModelSerializer):
    target_type = serializers.SerializerMethodField()
    requester = serializers.CharField(source="requester.username", read_only=True)
    decisions = ApprovalDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "requester",
            "reason",
            "payload",
            "payload_sha256",
            "payload_revision",
            "approvals_required",
            "eligible_groups",
            "expires_at",
            "status",
            "result",
            "failure_reason",
            "closed_reason",
            "created_at",
            "decided_at",
            "finished_at",
            "decisions",
        ]
        read_only_fields = fields

    def get_target_type(self, obj: ApprovalRequest) -> str:
        return f"{obj.target_type.app_label}.{obj.target_type.model}"


class ApprovalRequestDetailSerializer(ApprovalRequestSerializer):
    """`preconditions_at_request` / `preconditions_at_execution`: what the engine
    evaluated when the request was made (or last amended) and when it executed
    (null if it never did); `preconditions`: evaluated now, only while the request
    is pending (null afterwards)."""

    preconditions = serializers.SerializerMethodField()
    preconditions_at_request = PreconditionSerializer(many=True, read_only=True)
    preconditions_at_execution = PreconditionSerializer(many=True, read_only=True, allow_null=True)

    class Meta(ApprovalRequestSerializer.Meta):
        fields = [
            *ApprovalRequestSerializer.Meta.fields,
            "preconditions",
            "preconditions_at_request",
            "preconditions_at_execution",
        ]
        read_only_fields = fields

    def get_preconditions(self, obj: ApprovalRequest) -> list[dict] | None:
        if obj.status != ApprovalRequest.Status.PENDING:
            return None
        return [
            {"code": r.code, "label": r.label, "passed": r.passed, "detail": r.detail}
            for r in approval_preconditions(obj)
        ]


class ApprovalRequestCreateInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=[])
    target_type = text_input(
        max_length=100,
        required=False,
        help_text="app_label.model; must be the action's target model.",
    )
    target_id = text_input(required=False, max_length=64)
    target = text_input(
        max_length=200,
        required=False,
        help_text="A natural key the action resolves (e.g. an environment slug).",
    )
    reason = text_input(max_length=REASON_MAX)
    payload = serializers.DictField(required=False, default=dict)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The registered actions, read when used: controls registers its actions in
        # ready(), after this module may have been imported.
        action = self.fields["action"]
        assert isinstance(action, serializers.ChoiceField)
        action.choices = sorted(spec.action for spec in all_actions())


class ApproveInput(serializers.Serializer):
    password = password_input()
    payload_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        max_length=64,
        help_text="The SHA-256 of the payload you reviewed (hex).",
    )
    comment = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default=""
    )


class RejectInput(serializers.Serializer):
    password = password_input()
    reason = text_input(max_length=REASON_MAX)


class CancelInput(serializers.Serializer):
    reason = text_input(max_length=REASON_MAX)


class AmendInput(serializers.Serializer):
    payload = serializers.DictField()
