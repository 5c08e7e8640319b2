"""Real concurrent sessions against PostgreSQL: the deadline job on four workers at
once flags a review once; two signers at once approve it once."""

from datetime import timedelta

import pytest

from incidents import services
from incidents.models import PostIncidentReview, TimelineEntry
from incidents.reviews import services as reviews
from opsportal.audit.models import AuditEvent
from opsportal.signoffs.services import signable_sha256, signoff_sign
from tests.conftest import PASSWORD
from tests.incidents.reviews.conftest import resolve, write
from tests.incidents.test_concurrency import run_in_threads

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review(users):
    incident = services.incident_open(actor=users["operator1"], title="Loop", severity="SEV1")
    resolve(incident, users["commander"])  # transaction=True: the on-commit task runs
    return PostIncidentReview.objects.get(incident=incident)


def test_the_deadline_job_on_four_workers_flags_once(review):
    late = review.due_at + timedelta(minutes=1)
    results, errors = run_in_threads(4, lambda: reviews.reviews_flag_overdue(now=late).reviews)
    assert errors == []
    assert sorted(results) == [0, 0, 0, 1]
    entries = TimelineEntry.objects.filter(incident=review.incident, metadata__event="overdue")
    assert entries.count() == 1


def test_two_signers_at_once_approve_once(users, review):
    write(review, users["commander"])
    reviews.review_submit(review_id=review.pk, actor=users["commander"])
    review.refresh_from_db()
    sha = signable_sha256(review)
    signers = [(users["risk"], "senior_reviewer"), (users["operator2"], "second_reviewer")]

    def sign():
        user, role = signers.pop()
        return signoff_sign(
            target=review, actor=user, role=role, password=PASSWORD, content_sha256=sha
        ).role

    results, errors = run_in_threads(2, sign)
    assert errors == []
    assert sorted(results) == ["second_reviewer", "senior_reviewer"]
    review.refresh_from_db()
    assert review.state == "approved"
    assert AuditEvent.objects.filter(event_type="incident_review.approved").count() == 1
