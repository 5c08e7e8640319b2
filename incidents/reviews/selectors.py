"""Reads of post-incident reviews for the pages and the API (fixed query counts:
the list and the detail page cost the same whatever the number of rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from incidents.models import TimelineEntry
from incidents.reviews.content import live_review_content
from incidents.reviews.models import (  # noqa: F401 - overdue_action_items re-exported
    PENDING_STATES,
    ActionItem,
    PostIncidentReview,
    overdue_action_items,
)
from incidents.reviews.signing import REVIEW_SIGNOFF_ROLES
from opsportal.core.errors import NotFound
from opsportal.core.hashing import sha256_hex
from opsportal.signoffs.models import Signoff
from opsportal.signoffs.services import signoffs_for

ORDER = ("-created_at", "-id")


def review_queryset() -> QuerySet[PostIncidentReview]:
    return PostIncidentReview.objects.select_related("incident", "author").annotate(
        open_items=Count("action_items", filter=Q(action_items__status=ActionItem.Status.OPEN))
    )


def review_list(
    *,
    state: str = "",
    severity: str = "",
    overdue: bool = False,
    author: int | None = None,
) -> QuerySet[PostIncidentReview]:
    qs = review_queryset().order_by(*ORDER)
    if state:
        qs = qs.filter(state=state)
    if severity:
        qs = qs.filter(incident__severity=severity)
    if overdue:
        qs = qs.filter(state__in=PENDING_STATES, due_at__lt=timezone.now())
    if author:
        qs = qs.filter(author_id=author)
    return qs


def review_get(review_id: int) -> PostIncidentReview:
    review = review_queryset().filter(pk=review_id).first()
    if review is None:
        raise NotFound("No such post-incident review.", field="review")
    return review


@dataclass
class ReviewDetail:
    review: PostIncidentReview
    content: dict[str, Any]
    content_sha256: str
    items: list[ActionItem]
    timeline: list[TimelineEntry]
    signoffs: list[Signoff]
    valid_roles: set[str]
    required_roles: list[str]
    revisions: list[PostIncidentReview]


def review_detail(review: PostIncidentReview) -> ReviewDetail:
    """Everything the detail and printable pages show, in a fixed number of queries."""
    items = list(review.action_items.select_related("owner").order_by("position", "id"))
    # As review_content, but the live content is built from the items already read.
    content = review.signed_content or live_review_content(review, items)
    sha = sha256_hex(content)
    picks = list(review.timeline_entry_ids)
    timeline = sorted(
        TimelineEntry.objects.filter(incident_id=review.incident_id, pk__in=picks).select_related(
            "author"
        ),
        key=lambda e: (e.occurred_at, e.pk),
    )
    signoffs = list(signoffs_for(review, include_void=True))
    valid = {s.role for s in signoffs if s.voided_at is None and s.content_sha256 == sha}
    revisions = list(
        PostIncidentReview.objects.filter(incident_id=review.incident_id).order_by("revision")
    )
    return ReviewDetail(
        review, content, sha, items, timeline, signoffs, valid, REVIEW_SIGNOFF_ROLES, revisions
    )


def my_action_items(user: Any) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(owner=user)
        .select_related("incident", "review")
        .order_by("status", "due_on", "id")
    )


@dataclass
class OverdueBoard:
    reviews: list[PostIncidentReview]
    items: list[ActionItem]

    @property
    def total(self) -> int:
        return len(self.reviews) + len(self.items)


def overdue_board(limit: int = 10) -> OverdueBoard:
    """The dashboard's overdue reviews and action items (two queries)."""
    reviews = list(
        PostIncidentReview.objects.overdue()
        .select_related("incident", "author")
        .order_by("due_at")[:limit]
    )
    items = list(
        overdue_action_items().select_related("incident", "owner").order_by("due_on")[:limit]
    )
    return OverdueBoard(reviews, items)
