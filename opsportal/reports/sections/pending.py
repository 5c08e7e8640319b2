"""Sections whose data lands with other issues. Each is one function, so the section
is filled in one place when its app arrives."""

from __future__ import annotations

from typing import Any

from opsportal.reports.document import Section, unavailable


def incident_review_section(incident: Any) -> Section:
    """The incident's post-incident review: five whys, action items, sign-offs."""
    return unavailable(
        "Post-incident review",
        "post-incident reviews are not recorded by the portal yet (issue 10); "
        f"{incident.review_requirement().reason}",
        anchor="review",
    )


def monthly_reviews_section(start: Any, end: Any) -> Section:
    """Reviews due, done and overdue; their action items open and overdue."""
    return unavailable(
        "Post-incident reviews and action items",
        "post-incident reviews are not recorded by the portal yet (issue 10), so reviews "
        "due, done and overdue and their action items cannot be counted.",
        anchor="reviews",
    )


def monthly_drift_section(start: Any, end: Any) -> Section:
    """Clock drift worst offsets and breaches (with the offset chart), configuration
    drift findings."""
    return unavailable(
        "Clock and configuration drift",
        "drift checks are not recorded by the portal yet (issue 11), so there are no "
        "clock offsets, breaches or configuration findings to report.",
        anchor="drift",
    )


def audit_chain_section(start: Any, end: Any) -> Section:
    """The audit trail's last chain verification and its outcome."""
    return unavailable(
        "Audit chain verification",
        "the audit trail is not hash-chained yet (issue 15), so there is no verification "
        "to report; the audit events counted above are the trail as stored.",
        anchor="audit-chain",
    )
