"""Issue 14 item 2, the instances: input that used to be a 500 is a 400 (or 401/403)
naming the problem, and `orders_affected` given to the API is stored."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.models import Incident
from incidents.services import incident_open
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def incident(users):
    return incident_open(actor=users["operator1"], title="Broker lag", severity="SEV3")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/",
        "/api/v1/approvals/",
        "/api/v1/environments/paper/kill-switch/trigger",
        "/api/v1/environments/paper/live-transition",
    ],
)
def test_deeply_nested_json_is_400_naming_the_nesting(client_for, path):
    EnvironmentFactory(slug="paper")

    response = client_for("commander").post(path, DEEP, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


def test_json_body_over_the_size_limit_is_400(client_for):
    body = '{"title": "' + "x" * 1_100_000 + '", "severity": "SEV3"}'

    response = client_for("operator1").post(
        "/api/v1/incidents/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "too large" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", ["[]", '"x"', "7", "null"])
@pytest.mark.parametrize(("username", "status"), [("operator1", 400), (None, 403)])
def test_timeline_post_with_a_body_that_is_not_an_object(
    client_for, incident, body, username, status
):
    client = client_for(username) if username else Client()

    response = client.post(
        f"/api/v1/incidents/{incident.pk}/timeline", body, content_type="application/json"
    )

    assert response.status_code == status
    assert "error" in response.json()


def test_nul_in_a_json_string_is_400(client_for):
    response = client_for("operator1").post(
        "/api/v1/incidents/",
        '{"title": "bad\\u0000title", "severity": "SEV3"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]
    assert not Incident.objects.exists()


def test_nul_in_a_query_parameter_is_400_naming_it(client_for):
    response = client_for("auditor").get("/api/v1/drills/runs/?environment=%00")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "nul_character",
        "message": "query parameter 'environment' contains a NUL character, which is not allowed.",
        "field": "environment",
    }


def test_nul_in_a_form_field_is_400(client_for):
    response = client_for("operator1").post(
        "/incidents/new/", {"title": "a\x00b", "severity": "SEV2", "pnl_currency": "USD"}
    )

    assert response.status_code == 400
    assert "form field 'title' contains a NUL character" in response.content.decode()
    assert not Incident.objects.exists()


def test_nul_in_a_page_query_is_400(client_for):
    response = client_for("operator1").get("/incidents/?q=%00broker")

    assert response.status_code == 400


def test_api_open_stores_orders_affected(client_for):
    response = client_for("operator1").post(
        "/api/v1/incidents/",
        {"title": "Rejects", "severity": "SEV3", "orders_affected": 12},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["orders_affected"] == 12
    assert Incident.objects.get().orders_affected == 12


def test_api_open_with_orders_affected_beyond_the_column_is_400(client_for):
    response = client_for("operator1").post(
        "/api/v1/incidents/",
        {"title": "Rejects", "severity": "SEV3", "orders_affected": 3_000_000_000},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "orders_affected"


@pytest.mark.parametrize("value", ["3000000000", "9" * 20])
def test_create_form_with_orders_affected_beyond_the_column_rerenders(client_for, value):
    response = client_for("operator1").post(
        "/incidents/new/",
        {"title": "Rejects", "severity": "SEV2", "pnl_currency": "USD", "orders_affected": value},
    )

    assert response.status_code == 400
    assert "less than or equal to 2147483647" in response.content.decode()
    assert not Incident.objects.exists()


def test_impact_form_with_orders_affected_beyond_the_column_rerenders(client_for, incident):
    response = client_for("operator1").post(
        f"/incidents/{incident.pk}/impact/",
        {"impact-pnl_currency": "USD", "impact-orders_affected": "3000000000"},
    )

    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.orders_affected is None


def test_kill_form_with_an_incident_number_beyond_bigint_rerenders(client_for):
    EnvironmentFactory(slug="paper")

    response = client_for("operator1").post(
        "/environments/kill/",
        {"environment": "paper", "reason_code": "manual", "incident": "9" * 30},
    )

    assert response.status_code == 400
