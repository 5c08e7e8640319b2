"""Pages run a fixed number of queries whatever the number of rows (STYLE.md)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from tests.controls.factories import EnvironmentFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

# Session, user and permissions (4), the header fragments of other apps (approvals inbox,
# controls kill button: about 4) and the page's own reads: dashboard 4 + panels, list 2,
# detail 9. The budgets leave room for the header to grow, not for a query per row.
MAX_DASHBOARD = 24
MAX_LIST = 16
MAX_DETAIL = 24


@pytest.fixture
def two_hundred_incidents(db):
    now = timezone.now()
    envs = [EnvironmentFactory(slug="valr-live"), EnvironmentFactory(slug="paper")]
    statuses = ["detected", "acknowledged", "mitigating", "resolved", "closed"]
    Incident.objects.bulk_create(
        IncidentFactory.build(
            reference=f"INC-20260101-{n:03d}",
            severity=f"SEV{n % 4 + 1}",
            status=statuses[n % len(statuses)],
            environment=envs[n % 2],
            detected_at=now - timedelta(minutes=n * 7),
        )
        for n in range(200)
    )


def test_dashboard_query_count_is_fixed(
    client_for, two_hundred_incidents, django_assert_max_num_queries
):
    client = client_for("operator1")

    with django_assert_max_num_queries(MAX_DASHBOARD):
        response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    assert response.context["board"].open_total == 120


@pytest.mark.parametrize(
    "query", ["", "?state=open&severity=SEV1", "?q=INC-2026", "?q=INC-20260101-007", "?q=broker"]
)
def test_list_query_count_is_fixed(
    client_for, two_hundred_incidents, django_assert_max_num_queries, query
):
    client = client_for("auditor")

    with django_assert_max_num_queries(MAX_LIST):
        response = client.get(reverse("incidents:list") + query)

    assert response.status_code == 200
    assert len(response.context["incidents"]) > 0


def test_detail_query_count_is_fixed(
    client_for, users, playbook, two_hundred_incidents, django_assert_max_num_queries
):
    incident = services.incident_open(
        actor=users["operator1"],
        title="Broker down",
        severity="SEV2",
        playbook_slug=playbook.procedure.slug,
    )
    for username in ("operator1", "operator2", "risk"):
        services.incident_role_assign(
            actor=users["commander"], incident=incident, role="sme", user=users[username]
        )
    for n in range(30):
        services.timeline_entry_add(
            incident=incident, actor=users["operator2"], kind="note", body=f"note {n}"
        )
    for item in services.incident_checklists(incident).get().items.all():
        services.incident_checklist_item_tick(
            incident_id=incident.pk, item_id=item.pk, actor=users["operator1"]
        )
    services.incident_status_update_post(
        actor=users["operator1"], incident=incident, kind="initial", fields={"impact": "x"}
    )
    client = client_for("commander")

    with django_assert_max_num_queries(MAX_DETAIL):
        response = client.get(reverse("incidents:detail", args=[incident.pk]))

    assert response.status_code == 200
    assert len(response.context["detail"].timeline) > 30


@pytest.mark.parametrize("url", ["/", "/incidents/", "/incidents/?state=open"])
def test_query_count_does_not_grow_with_rows(client_for, url):
    client = client_for("commander")
    client.get(url)  # warm caches (content types, permissions)
    IncidentFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    Incident.objects.bulk_create(
        IncidentFactory.build(reference=f"INC-20260102-{n:03d}") for n in range(60)
    )

    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)
