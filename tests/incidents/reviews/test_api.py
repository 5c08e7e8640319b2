"""The reviews API: the same rules as the pages, the same error shape."""

import pytest

from incidents.models import PostIncidentReview
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BODY = {
    "summary": "Orders looped.",
    "whys": [
        {"question": "Why?", "answer": "Retry on reject."},
        {"question": "Why retry?", "answer": "One error code."},
    ],
    "root_cause": "One error code for rejects and timeouts.",
    "factors": [{"description": "No rate limit", "objective": "resilience"}],
}


@pytest.fixture
def review(resolved):
    return PostIncidentReview.objects.get(incident=resolved("SEV1"))


def put(client, review, body):
    return client.put(f"/api/v1/reviews/{review.pk}", body, content_type="application/json")


def test_write_submit_and_sign_through_the_api(client_for, users, review):
    commander = client_for("commander")
    body = {
        **BODY,
        "action_items": [
            {"title": "Split codes", "owner": users["operator1"].pk, "due_on": "2030-01-31"}
        ],
    }
    response = put(commander, review, body)
    assert response.status_code == 200, response.json()
    assert [i["title"] for i in response.json()["action_items"]] == ["Split codes"]
    assert commander.post(f"/api/v1/reviews/{review.pk}/submit").json()["state"] == "in_review"

    sha = commander.get(f"/api/v1/reviews/{review.pk}").json()["content_sha256"]
    refused = commander.post(
        f"/api/v1/reviews/{review.pk}/sign",
        {"role": "senior_reviewer", "password": PASSWORD, "content_sha256": sha},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "author"

    for username, role in (("risk", "senior_reviewer"), ("operator2", "second_reviewer")):
        signed = client_for(username).post(
            f"/api/v1/reviews/{review.pk}/sign",
            {"role": role, "password": PASSWORD, "content_sha256": sha},
            content_type="application/json",
        )
        assert signed.status_code == 201, signed.json()
    assert commander.get(f"/api/v1/reviews/{review.pk}").json()["state"] == "approved"

    locked = put(commander, review, BODY)
    assert locked.status_code == 409
    assert locked.json()["error"]["code"] == "review_locked"


def test_an_incomplete_why_is_a_400_naming_the_field(client_for, review):
    body = {**BODY, "whys": [{"question": "Why?", "answer": ""}]}
    response = put(client_for("commander"), review, body)
    assert response.status_code == 400
    assert response.json()["error"]["field"].startswith("whys")


def test_list_filters_and_action_item_status(client_for, users, review):
    commander = client_for("commander")
    body = {
        **BODY,
        "action_items": [{"title": "A", "owner": users["operator1"].pk, "due_on": "2030-01-31"}],
    }
    put(commander, review, body)
    listed = commander.get("/api/v1/reviews/?state=draft&severity=SEV1").json()
    assert [r["id"] for r in listed["results"]] == [review.pk]
    mine = client_for("operator1").get("/api/v1/action-items/?mine=true").json()["results"]
    assert [i["title"] for i in mine] == ["A"]
    done = client_for("operator1").post(
        f"/api/v1/action-items/{mine[0]['id']}/status",
        {"status": "wont_do"},
        content_type="application/json",
    )
    assert done.status_code == 400
    assert done.json()["error"]["field"] == "reason"


def test_the_auditor_reads_and_cannot_write(client_for, review):
    auditor = client_for("auditor")
    assert auditor.get(f"/api/v1/reviews/{review.pk}").status_code == 200
    assert put(auditor, review, BODY).status_code == 403
    assert auditor.post(f"/api/v1/reviews/{review.pk}/submit").status_code == 403
