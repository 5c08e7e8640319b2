import pytest

from incidents import services
from incidents.models import Incident
from opsportal.audit.models import AuditEvent
from tests.controls.factories import EnvironmentFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_incident_list_api_filters_and_paginates(client_for):
    IncidentFactory(reference="INC-A", severity="SEV1")
    IncidentFactory(reference="INC-B", severity="SEV3", status="closed")

    body = client_for("auditor").get("/api/v1/incidents/?state=open").json()

    assert (len(body["results"]), body["next"]) == (1, None)
    assert body["results"][0]["reference"] == "INC-A"
    assert body["results"][0]["severity_alias"] == "P0"


def test_incident_list_api_bad_filter_is_a_400_with_the_field(client_for):
    response = client_for("auditor").get("/api/v1/incidents/?severity=SEV9")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "severity"


def test_incident_open_api_creates_for_an_operator(client_for):
    EnvironmentFactory(slug="paper")

    response = client_for("operator1").post(
        "/api/v1/incidents/",
        {"title": "Kafka lag", "severity": "SEV3", "environment": "paper"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["reference"].startswith("INC-")
    assert Incident.objects.get().environment.slug == "paper"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"title": "x", "severity": "SEV9"}, 400, "severity"),
        ({"severity": "SEV1"}, 400, "title"),
        ({"title": "x", "severity": "SEV1", "environment": "nowhere"}, 404, "environment"),
        ({"title": "x", "severity": "SEV1", "playbook": "nope"}, 404, "procedure"),
    ],
)
def test_incident_open_api_bad_input_names_the_field(client_for, payload, status, field):
    response = client_for("operator1").post(
        "/api/v1/incidents/", payload, content_type="application/json"
    )

    assert response.status_code == status
    assert response.json()["error"]["field"] == field
    assert not Incident.objects.exists()


def test_incident_open_api_refused_for_auditor_and_audited(client_for, users):
    response = client_for("auditor").post(
        "/api/v1/incidents/", {"title": "x", "severity": "SEV1"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "error" in response.json()
    assert AuditEvent.objects.filter(event_type="access.denied", actor=users["auditor"]).exists()


def test_incident_transition_api(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")
    url = f"/api/v1/incidents/{incident.pk}/transitions/"

    refused = client_for("operator1").post(url + "mitigate")
    acked = client_for("operator1").post(url + "acknowledge")
    illegal = client_for("commander").post(url + "monitor")
    mitigated = client_for("commander").post(url + "mitigate")
    unknown = client_for("commander").post(url + "explode")

    assert refused.status_code == 403
    assert acked.json()["status"] == "acknowledged"
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "illegal_transition"
    assert mitigated.json()["status"] == "mitigating"
    assert unknown.status_code == 404


def test_incident_timeline_api(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")
    url = f"/api/v1/incidents/{incident.pk}/timeline"

    note = client_for("risk").post(url, {"kind": "note", "body": "P&L flat"})
    command = client_for("risk").post(url, {"kind": "command", "body": "ls"})
    bad = client_for("operator1").post(url, {"kind": "evidence", "url": "nope"})
    detail = client_for("auditor").get(f"/api/v1/incidents/{incident.pk}/").json()

    assert note.status_code == 201
    assert command.status_code == 403
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "url")
    assert [e["kind"] for e in detail["timeline"]] == ["transition", "note"]
    assert detail["timeline"][1]["author"] == "risk"


def test_incident_list_api_query_count(client_for, django_assert_max_num_queries):
    Incident.objects.bulk_create(
        IncidentFactory.build(reference=f"INC-Q-{n:03d}") for n in range(200)
    )
    client = client_for("auditor")

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/incidents/")

    assert len(response.json()["results"]) == 50
