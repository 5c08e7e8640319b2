import pytest


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
        if operation["operationId"] != "gate_read"
        and operation["responses"].get("403", {}).get("content", {}).get("application/json")
        != {"schema": {"$ref": "#/components/schemas/Error"}}
    ]
    assert undocumented == []
