import io
from datetime import timedelta

import pytest

from incidents import demo
from incidents.models import Incident, PostIncidentReview

pytestmark = pytest.mark.django_db


def test_demo_seed_makes_realistic_incidents_once(users):
    out = io.StringIO()

    demo.seed(users=users, stdout=out)
    first = sorted(Incident.objects.values_list("severity", "status"))
    demo.seed(users=users, stdout=out)

    assert sorted(Incident.objects.values_list("severity", "status")) == first
    assert first == [
        ("SEV1", "detected"),
        ("SEV1", "resolved"),
        ("SEV2", "acknowledged"),
        ("SEV2", "declined"),
        ("SEV3", "investigating"),
        ("SEV4", "closed"),
    ]
    assert Incident.objects.sla_breaching_now().count() == 1
    assert Incident.objects.update_overdue().count() == 1
    assert "exists" in out.getvalue()
    # The resolved SEV1's review is a draft, due 48 h after the resolution.
    review = PostIncidentReview.objects.get()
    assert review.state == "draft" and review.incident.severity == "SEV1"
    assert review.due_at == review.incident.resolved_at + timedelta(hours=48)
