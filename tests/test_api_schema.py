import pytest
from django.test import Client

from opsportal.controls.services import gate_token_issue
from tests.controls.factories import EnvironmentFactory


def test_openapi_schema_describes_the_gate_and_people_endpoints(client_for):
    response = client_for("operator1").get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert response.status_code == 200
    gate = paths["/api/v1/environments/{slug}/gate"]["get"]
    assert set(gate["responses"]) == {"200", "401", "404", "503"}
    assert "/api/v1/approvals/" in paths
    assert "/api/v1/incidents/" in paths


def test_api_docs_page_renders_for_a_signed_in_user(client_for):
    assert client_for("auditor").get("/api/docs/").status_code == 200


@pytest.mark.parametrize("slug", ["no%2Fsuch", "line%0Abreak"])
def test_unmatched_gate_slug_answers_the_json_error_not_an_html_page(client, slug):
    response = client.get(f"/api/v1/environments/{slug}/gate")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_path_missing_its_trailing_slash_still_redirects(client_for):
    response = client_for("operator1").get("/api/v1/environments/paper")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/environments/paper/"


def test_every_people_operation_documents_the_error_shape(client_for):
    paths = client_for("auditor").get("/api/schema/", {"format": "json"}).json()["paths"]

    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation["operationId"] not in ("gate_read", "gate_stream")
        and operation["responses"].get("403", {}).get("content", {}).get("application/json")
        != {"schema": {"$ref": "#/components/schemas/Error"}}
    ]
    assert undocumented == []


@pytest.mark.parametrize(
    ("slug", "token"), [("paper", False), ("no-such-env", True)], ids=["no token", "unknown"]
)
def test_gate_stream_refusals_are_documented_statuses(client_for, users, slug, token):
    EnvironmentFactory(slug="paper")
    _, raw = gate_token_issue(name="engine", environment=None, actor=users["admin"])
    schema = client_for("operator1").get("/api/schema/", {"format": "json"}).json()
    documented = schema["paths"]["/api/v1/environments/{slug}/gate/stream"]["get"]["responses"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if token else {}

    response = Client().get(f"/api/v1/environments/{slug}/gate/stream", **headers)

    assert str(response.status_code) in documented
    assert response.json()["decision"] == "HALT"


def empty_query_parameters(client_for):
    paths = client_for("auditor").get("/api/schema/", {"format": "json"}).json()["paths"]
    return [
        (path, parameter)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method == "get"
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]


def test_every_empty_query_parameter_is_documented_and_means_not_given(client_for):
    """`?status=` is answered as if absent, and the schema says so (allowEmptyValue)."""
    client = client_for("auditor")
    parameters = empty_query_parameters(client_for)

    answers = {
        (path, p["name"]): (
            p.get("allowEmptyValue"),
            client.get(f"{path}?{p['name']}=").status_code,
        )
        for path, p in parameters
    }

    assert parameters
    assert set(answers.values()) == {(True, 200)}, answers
