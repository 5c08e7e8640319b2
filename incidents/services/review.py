"""The post-incident review rule for closing."""

from __future__ import annotations

from dataclasses import dataclass

from incidents.models import (
    Incident,
)
from incidents.severity import SEVERITIES


@dataclass(frozen=True)
class ReviewRequirement:
    required: bool
    satisfied: bool
    reason: str


def review_requirement(incident: Incident) -> ReviewRequirement:
    """Whether `incident` may close as far as the post-incident review is concerned.

    Rule (incident-response-playbook-sev-levels.md "Post-Mortem Requirements"):
    SEV1 needs a review within 48 h and SEV2 within a week; SEV3's is optional and
    SEV4 needs none. The post-incident review model arrives in a later issue; until
    then no review can be approved, so SEV1/SEV2 incidents cannot close and
    SEV3/SEV4 may. When reviews exist, this is the one place to ask whether the
    incident's review is approved.
    """
    sev = SEVERITIES[incident.severity]
    if not sev.review_required:
        return ReviewRequirement(False, True, f"{sev.code} needs no post-incident review.")
    return ReviewRequirement(
        True,
        False,
        f"{sev.code} ({sev.alias}) can close only after its post-incident review is approved.",
    )
