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
