"""The sign-off rules of post-incident reviews, registered with the sign-off service
(`opsportal.signoffs.services.signoff_sign` makes the sign-offs). Imported by
`IncidentsConfig.ready()` so the registration happens at start-up.

Two sign-offs from two different people, neither of them the review's author: the
`senior_reviewer` holds the incident_commander or risk_officer role, the
`second_reviewer` is anyone else allowed to sign reviews. They sign the SHA-256 of
the review and its action items (`incidents.reviews.content`); an edit changes the
hash, so a sign-off given before it no longer holds. The second valid sign-off
approves the review and freezes its content.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from incidents.models import TimelineEntry
from incidents.reviews.content import live_review_content, review_content
from incidents.reviews.models import PostIncidentReview, ReviewState
from incidents.services._base import timeline_write
from opsportal.accounts.roles import INCIDENT_COMMANDER, RISK_OFFICER
from opsportal.audit.services import audit_record
from opsportal.core.errors import Conflict, NotPermitted
from opsportal.signoffs.services import (
    SignableAdapter,
    register_signable,
    user_in_group,
    valid_signoffs,
)

SENIOR = "senior_reviewer"
SECOND = "second_reviewer"
REVIEW_SIGNOFF_ROLES = [SENIOR, SECOND]


class ReviewSignable(SignableAdapter):
    def content(self, target: PostIncidentReview) -> dict[str, Any]:
        return review_content(target)

    def required_roles(self, target: PostIncidentReview) -> list[str]:
        return list(REVIEW_SIGNOFF_ROLES)

    def check_can_sign(self, target: PostIncidentReview) -> None:
        if target.state != ReviewState.IN_REVIEW:
            raise Conflict(
                f"Only a review in review can be signed (this one is "
                f"{target.get_state_display().lower()}).",
                code="not_signable",
            )

    def check_role(self, target: PostIncidentReview, user: Any, role: str) -> None:
        if not user.has_perm("incidents.sign_postincidentreview"):
            raise NotPermitted("You may not sign post-incident reviews.", code="wrong_role")
        if user.pk == target.author_id:
            raise NotPermitted(
                "The review's author cannot sign it; two other people must.", code="author"
            )
        if role == SENIOR and not (
            user_in_group(user, INCIDENT_COMMANDER) or user_in_group(user, RISK_OFFICER)
        ):
            raise NotPermitted(
                "One sign-off must come from an incident commander or a risk officer.",
                code="wrong_role",
            )

    def on_complete(self, target: PostIncidentReview, actor: Any) -> None:
        signers = {s.role: s.signer.get_username() for s in valid_signoffs(target)}
        target.approve()
        target.approved_at = timezone.now()
        target.signed_content = live_review_content(target)
        target.save(update_fields=["state", "approved_at", "signed_content"])
        timeline_write(
            incident=target.incident,
            actor=actor,
            kind=TimelineEntry.Kind.REVIEW,
            body=f"Post-incident review (revision {target.revision}) approved, signed by "
            f"{', '.join(sorted(signers.values()))}.",
            metadata={"review": target.pk, "event": "approved", "signers": signers},
        )
        audit_record(
            actor=actor,
            event_type="incident_review.approved",
            obj=target,
            before={"state": ReviewState.IN_REVIEW},
            after={"state": target.state, "signers": signers},
        )


register_signable(PostIncidentReview, ReviewSignable())
