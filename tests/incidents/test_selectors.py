from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from incidents import selectors
from incidents.models import Incident
from tests.controls.factories import EnvironmentFactory
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_open_incidents_for_environment_filters_severity_status_and_environment():
    env, other = EnvironmentFactory(slug="valr-live"), EnvironmentFactory(slug="paper")
    sev1 = IncidentFactory(environment=env, severity="SEV1")
    IncidentFactory(environment=env, severity="SEV3")
    IncidentFactory(environment=env, severity="SEV2", status="resolved")
    IncidentFactory(environment=other, severity="SEV1")

    found = list(selectors.open_incidents_for_environment(env))

    assert found == [sev1]
    assert selectors.open_incidents_for_environment(env, severities=("SEV3",)).count() == 1


def test_sla_breach_and_overdue_update_are_computed_in_sql():
    now = timezone.now()
    late = IncidentFactory(detected_at=now - timedelta(minutes=20))  # SEV2: 15 min SLA
    IncidentFactory(detected_at=now - timedelta(minutes=10))
    acked_late = IncidentFactory(
        detected_at=now - timedelta(hours=2),
        status="acknowledged",
        acknowledged_at=now - timedelta(hours=1),
    )
    IncidentFactory(detected_at=now - timedelta(hours=2), status="declined")

    assert set(Incident.objects.sla_breached(now)) == {late, acked_late}
    assert list(Incident.objects.sla_breaching_now(now)) == [late]
    assert set(Incident.objects.update_overdue(now)) == {acked_late}
    assert late.sla_breached(now) and acked_late.sla_breached(now)
    assert acked_late.update_overdue(now)


def test_dashboard_counts_open_by_severity_and_lists_breaches():
    now = timezone.now()
    IncidentFactory(severity="SEV1", detected_at=now - timedelta(minutes=10))
    IncidentFactory(severity="SEV3")
    IncidentFactory(severity="SEV3", status="closed")

    board = selectors.dashboard(now=now)

    assert [(sev.code, n) for sev, n in board.open_by_severity] == [
        ("SEV1", 1),
        ("SEV2", 0),
        ("SEV3", 1),
        ("SEV4", 0),
    ]
    assert board.open_total == 2
    assert [i.severity for i in board.sla_breaching] == ["SEV1"]
    assert [i.severity for i in board.open_incidents] == ["SEV1", "SEV3"]


def test_get_incident_for_applies_access(users):
    incident = IncidentFactory()

    assert selectors.get_incident_for(users["auditor"], incident.pk) == incident
    with pytest.raises(Http404):
        selectors.get_incident_for(users["auditor"], incident.pk + 1000)
    with pytest.raises(PermissionDenied):
        selectors.get_incident_for(UserFactory(roles=[]), incident.pk)
    assert selectors.incidents_for(UserFactory(roles=[])).count() == 0
