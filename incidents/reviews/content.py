"""What a review's sign-off attests: the review's content and its action items, as
JSON values (hashed by `opsportal.signoffs.services.signable_sha256` through
`opsportal.core.hashing`). An approved revision answers with the content frozen at
approval, so its sign-offs keep holding while its action items move on (their
status is not signed content: marking one done must not void the approval)."""

from __future__ import annotations

from typing import Any

from incidents.reviews.models import ActionItem, PostIncidentReview


def action_item_content(item: ActionItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "title": item.title,
        "owner": item.owner.get_username(),
        "due_on": item.due_on.isoformat(),
        "kind": item.kind,
        "priority": item.priority,
        "link": item.link,
    }


def live_review_content(
    review: PostIncidentReview, items: list[ActionItem] | None = None
) -> dict[str, Any]:
    """The review as it is now (the editable content, not the workflow fields)."""
    if items is None:
        items = list(review.action_items.select_related("owner").order_by("position", "id"))
    return {
        "review": review.pk,
        "incident": review.incident.reference,
        "revision": review.revision,
        "summary": review.summary,
        "impact": review.impact,
        "timeline_entry_ids": list(review.timeline_entry_ids),
        "whys": [{"question": w["question"], "answer": w["answer"]} for w in review.whys],
        "root_cause": review.root_cause,
        "factors": [
            {"description": f["description"], "objective": f["objective"]} for f in review.factors
        ],
        "went_well": review.went_well,
        "went_poorly": review.went_poorly,
        "lessons": review.lessons,
        "verification_plan": review.verification_plan,
        "action_items": [action_item_content(item) for item in items],
    }


def review_content(review: PostIncidentReview) -> dict[str, Any]:
    """The signed content: frozen once approved, live before."""
    if review.signed_content is not None:
        frozen: dict[str, Any] = review.signed_content
        return frozen
    return live_review_content(review)
