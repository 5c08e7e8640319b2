"""API shapes of post-incident reviews and action items."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidents.reviews.models import (
    MAX_ACTION_ITEMS,
    MAX_FACTORS,
    MAX_TIMELINE_PICKS,
    MAX_WHYS,
    ActionItem,
    ControlObjective,
    PostIncidentReview,
    ReviewState,
)
from incidents.reviews.services import LINK_MAX, TITLE_MAX, WHY_MAX
from opsportal.core.api import password_input, text_input
from opsportal.core.text import COMMENT_MAX, NOTE_MAX, REASON_MAX, SUMMARY_MAX

MAX_ID = 2_147_483_647


class ActionItemOut(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    incident = serializers.CharField(source="incident.reference", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "incident",
            "review",
            "title",
            "owner",
            "due_on",
            "kind",
            "priority",
            "status",
            "status_reason",
            "link",
            "created_at",
            "closed_at",
            "overdue",
        ]

    def get_overdue(self, item: ActionItem) -> bool:
        return item.is_overdue()


class ReviewOut(serializers.ModelSerializer):
    incident = serializers.CharField(source="incident.reference", read_only=True)
    incident_id = serializers.IntegerField(read_only=True)
    severity = serializers.CharField(source="incident.severity", read_only=True)
    author = serializers.CharField(
        source="author.username", read_only=True, allow_null=True, default=None
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = PostIncidentReview
        fields = [
            "id",
            "incident",
            "incident_id",
            "severity",
            "revision",
            "state",
            "required",
            "author",
            "due_at",
            "overdue",
            "created_at",
            "submitted_at",
            "approved_at",
            "published_at",
        ]

    def get_overdue(self, review: PostIncidentReview) -> bool:
        return review.is_overdue()


class WhySerializer(serializers.Serializer):
    question = serializers.CharField(max_length=WHY_MAX)
    answer = serializers.CharField(max_length=WHY_MAX)


class FactorSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=WHY_MAX)
    objective = serializers.ChoiceField(choices=ControlObjective.choices)


class SignoffOut(serializers.Serializer):
    role = serializers.CharField()
    signer = serializers.CharField(source="signer.username")
    signed_at = serializers.DateTimeField()
    comment = serializers.CharField()
    content_sha256 = serializers.CharField()
    voided_at = serializers.DateTimeField(allow_null=True)


class ReviewDetailOut(ReviewOut):
    whys = WhySerializer(many=True, read_only=True)
    factors = FactorSerializer(many=True, read_only=True)
    timeline_entry_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    action_items = serializers.SerializerMethodField()
    content_sha256 = serializers.SerializerMethodField()
    signoffs = serializers.SerializerMethodField()
    changes_requested = serializers.CharField(read_only=True)

    class Meta(ReviewOut.Meta):
        fields = [
            *ReviewOut.Meta.fields,
            "summary",
            "impact",
            "timeline_entry_ids",
            "whys",
            "root_cause",
            "factors",
            "went_well",
            "went_poorly",
            "lessons",
            "verification_plan",
            "changes_requested",
            "action_items",
            "content_sha256",
            "signoffs",
        ]

    def get_action_items(self, review: PostIncidentReview) -> list[dict[str, Any]]:
        return list(ActionItemOut(self.context["detail"].items, many=True).data)

    def get_content_sha256(self, review: PostIncidentReview) -> str:
        return str(self.context["detail"].content_sha256)

    def get_signoffs(self, review: PostIncidentReview) -> list[dict[str, Any]]:
        return list(SignoffOut(self.context["detail"].signoffs, many=True).data)


class ActionItemIn(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    title = text_input(max_length=TITLE_MAX)
    owner = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="User id.")
    due_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=ActionItem.Kind.choices, default="corrective")
    priority = serializers.ChoiceField(choices=ActionItem.Priority.choices, default="medium")
    link = serializers.URLField(max_length=LINK_MAX, required=False, allow_blank=True, default="")


def _text(limit: int) -> serializers.CharField:
    return serializers.CharField(max_length=limit, required=False, allow_blank=True, default="")


class ReviewIn(serializers.Serializer):
    """The whole draft: every section is replaced by what is sent."""

    summary = _text(SUMMARY_MAX)
    impact = _text(SUMMARY_MAX)
    timeline_entry_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=MAX_TIMELINE_PICKS,
    )
    # many=True passes max_length to DRF's ListSerializer (3.14+); the stubs lag behind.
    whys = WhySerializer(many=True, required=False, default=list, max_length=MAX_WHYS)  # type: ignore[call-arg]
    root_cause = _text(NOTE_MAX)
    factors = FactorSerializer(many=True, required=False, default=list, max_length=MAX_FACTORS)  # type: ignore[call-arg]
    went_well = _text(NOTE_MAX)
    went_poorly = _text(NOTE_MAX)
    lessons = _text(NOTE_MAX)
    verification_plan = _text(NOTE_MAX)
    action_items = ActionItemIn(
        many=True,
        required=False,
        default=list,
        max_length=MAX_ACTION_ITEMS,  # type: ignore[call-arg]
    )


class ReviewSignIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=["senior_reviewer", "second_reviewer"])
    password = password_input()
    content_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", max_length=64)
    comment = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default=""
    )


class ActionItemStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=ActionItem.Status.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReviewRequestChangesIn(serializers.Serializer):
    reason = text_input(max_length=REASON_MAX)


REVIEW_STATES = ReviewState.values
