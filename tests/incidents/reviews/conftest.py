from datetime import date, timedelta

import pytest

from incidents import services
from incidents.reviews import services as reviews
from opsportal.signoffs.services import signable_sha256, signoff_sign
from tests.conftest import PASSWORD


def resolve(incident, commander):
    """detected → resolved by `commander`, who holds the incident-commander role."""
    services.incident_role_assign(
        incident=incident, role="incident_commander", user=commander, actor=commander
    )
    for verb in ("acknowledge", "investigate", "mitigate", "resolve"):
        services.incident_transition(verb=verb, incident=incident, actor=commander)
    incident.refresh_from_db()
    return incident


@pytest.fixture
def resolved(users, django_capture_on_commit_callbacks):
    """`resolved(severity="SEV1")`: an incident opened by operator1 and resolved by the
    commander, with the on-commit review creation run."""

    def make(severity="SEV1", title="Runaway orders on VALR"):
        incident = services.incident_open(actor=users["operator1"], title=title, severity=severity)
        with django_capture_on_commit_callbacks(execute=True):
            resolve(incident, users["commander"])
        incident.refresh_from_db()
        return incident

    return make


def item(owner, title="Add a pre-trade notional check", days=14, **kwargs):
    return reviews.ActionItemInput(
        title=title, owner_id=owner.pk, due_on=date.today() + timedelta(days=days), **kwargs
    )


def write(review, actor, **overrides):
    data = {
        "summary": "A strategy sent 4,000 orders in a loop.",
        "whys": [
            {"question": "Why did it loop?", "answer": "The fill handler retried on a reject."},
            {"question": "Why retry on a reject?", "answer": "Rejects were treated as timeouts."},
        ],
        "root_cause": "No distinction between rejects and timeouts in the order gateway.",
        "factors": [{"description": "No order-rate limit", "objective": "risk"}],
        **overrides,
    }
    return reviews.review_update(review_id=review.pk, actor=actor, **data)


def sign(review, user, role, *, password=PASSWORD):
    review.refresh_from_db()
    return signoff_sign(
        target=review,
        actor=user,
        role=role,
        password=password,
        content_sha256=signable_sha256(review),
    )
