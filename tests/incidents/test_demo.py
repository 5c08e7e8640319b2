import io

import pytest

from incidents import demo
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_demo_seed_makes_realistic_incidents_once(users):
    out = io.StringIO()

    demo.seed(users=users, stdout=out)
    first = sorted(Incident.objects.values_list("severity", "status"))
    demo.seed(users=users, stdout=out)

    assert sorted(Incident.objects.values_list("severity", "status")) == first
    assert first == [
        ("SEV1", "detected"),
        ("SEV2", "acknowledged"),
        ("SEV2", "declined"),
        ("SEV3", "investigating"),
        ("SEV4", "closed"),
    ]
    assert Incident.objects.sla_breaching_now().count() == 1
    assert Incident.objects.update_overdue().count() == 1
    assert "exists" in out.getvalue()
