"""The post-incident review as its own document, in the runbooks' post-mortem template
order (summary, impact, timeline excerpt, five whys ending in the root cause,
contributing factors, what went well and poorly, lessons, verification plan, action
items), with its sign-offs and the SHA-256 of the content they sign; and the review
section of the incident report."""

from __future__ import annotations

from typing import Any

from incidents.models import Incident
from incidents.reviews.models import ControlObjective, PostIncidentReview
from incidents.reviews.selectors import ReviewDetail, review_detail, review_get
from opsportal.reports.document import Document, Section
from opsportal.signoffs.services import ROLE_LABELS

OBJECTIVES = dict(ControlObjective.choices)


def _text(title: str, text: str, anchor: str = "") -> Section:
    return Section(title, "reports/sections/review_text.html", {"text": text}, anchor=anchor)


def _whys(content: dict[str, Any]) -> list[dict[str, str]]:
    return [{"question": w["question"], "answer": w["answer"]} for w in content.get("whys", [])]


def facts_section(detail: ReviewDetail) -> Section:
    review = detail.review
    return Section(
        "Review",
        "reports/sections/review_facts.html",
        {
            "review": review,
            "incident": review.incident,
            "overdue": review.is_overdue(),
            "content_sha256": detail.content_sha256,
        },
        anchor="review",
    )


def timeline_section(detail: ReviewDetail) -> Section:
    return Section(
        "Timeline excerpt",
        "reports/sections/review_timeline.html",
        {"entries": detail.timeline},
        anchor="timeline",
    )


def whys_section(content: dict[str, Any]) -> Section:
    return Section(
        "Five whys and root cause",
        "reports/sections/review_whys.html",
        {"whys": _whys(content), "root_cause": content.get("root_cause", "")},
        anchor="whys",
    )


def factors_section(content: dict[str, Any]) -> Section:
    factors = [
        {
            "description": f["description"],
            "objective": OBJECTIVES.get(f["objective"], f["objective"]),
        }
        for f in content.get("factors", [])
    ]
    return Section(
        "Contributing factors",
        "reports/sections/review_factors.html",
        {"factors": factors},
        anchor="factors",
    )


def action_items_section(detail: ReviewDetail) -> Section:
    return Section(
        "Action items",
        "reports/sections/review_action_items.html",
        {"items": detail.items},
        anchor="action-items",
    )


def signoffs_section(detail: ReviewDetail) -> Section:
    sha = detail.content_sha256
    rows = [
        {
            "s": s,
            "role": ROLE_LABELS.get(s.role, s.role),
            "valid": s.voided_at is None and s.content_sha256 == sha,
        }
        for s in detail.signoffs
    ]
    required = [
        {"label": ROLE_LABELS.get(r, r), "signed": r in detail.valid_roles}
        for r in detail.required_roles
    ]
    return Section(
        "Sign-offs",
        "reports/sections/review_signoffs.html",
        {"signoffs": rows, "required": required, "content_sha256": sha},
        anchor="signoffs",
    )


def _review(pk: int) -> ReviewDetail:
    review = review_get(pk)
    return review_detail(review)


def build(params: dict[str, Any]) -> Document:
    detail = _review(params["review"])
    review, content = detail.review, detail.content
    incident = review.incident
    return Document(
        title=f"Post-incident review {incident.reference}",
        subject=f"{incident.reference} — {incident.title} (revision {review.revision})",
        sections=[
            facts_section(detail),
            _text("Summary", content.get("summary", ""), "summary"),
            _text("Impact", content.get("impact", ""), "impact"),
            timeline_section(detail),
            whys_section(content),
            factors_section(content),
            _text("What went well", content.get("went_well", ""), "went-well"),
            _text("What went poorly", content.get("went_poorly", ""), "went-poorly"),
            _text("Lessons learned", content.get("lessons", ""), "lessons"),
            _text("Verification plan", content.get("verification_plan", ""), "verification"),
            action_items_section(detail),
            signoffs_section(detail),
        ],
    )


def title(params: dict[str, Any]) -> str:
    row = (
        PostIncidentReview.objects.filter(pk=params["review"])
        .values_list("incident__reference", "revision")
        .first()
    )
    if row is None:
        return f"Post-incident review #{params['review']}"
    return f"Post-incident review {row[0]} (revision {row[1]})"


def current_review(incident: Incident) -> PostIncidentReview | None:
    """The incident's latest revision (the one a reader means by "the review")."""
    return incident.reviews.order_by("-revision").first()


def incident_review_section(incident: Incident) -> Section:
    """The incident report's review section: state, due time, five whys and action
    items when there is a review; why there is none otherwise."""
    review = current_review(incident)
    if review is None:
        return Section(
            "Post-incident review",
            "reports/sections/incident_review.html",
            {"review": None, "reason": incident.review_requirement().reason},
            anchor="review",
        )
    detail = review_detail(review_get(review.pk))
    return Section(
        "Post-incident review",
        "reports/sections/incident_review.html",
        {
            "review": detail.review,
            "overdue": detail.review.is_overdue(),
            "whys": _whys(detail.content),
            "root_cause": detail.content.get("root_cause", ""),
            "items": detail.items,
            "content_sha256": detail.content_sha256,
            "valid_roles": [ROLE_LABELS.get(r, r) for r in sorted(detail.valid_roles)],
        },
        anchor="review",
    )
