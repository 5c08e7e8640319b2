"""The four-eyes rules through the API (/api/v1/approvals/)."""

from __future__ import annotations

import pytest

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from tests.approvals.factories import ApprovalPolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/approvals/"


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


def approve(client, request, password, **extra):
    body = {"password": password, "payload_sha256": request.payload_sha256, **extra}
    return post(client, f"{BASE}{request.pk}/approve", body)


def test_api_create_by_target_id_returns_the_request_with_preconditions(client_for, policy, target):
    response = post(
        client_for("operator1"),
        BASE,
        {
            "action": "test_action",
            "target_type": "accounts.user",
            "target_id": str(target.pk),
            "reason": "go live",
            "payload": {"size": 2},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["requester"], body["target_repr"]) == (
        "pending",
        "operator1",
        "target-user",
    )
    assert body["payload"] == {"size": 2}
    assert len(body["payload_sha256"]) == 64
    assert {p["code"]: p["passed"] for p in body["preconditions"]} == {
        "target_active": True,
        "not_blocked": True,
    }


def test_api_detail_of_an_executed_request_gives_the_stored_preconditions_only(
    client_for, make_request, password
):
    request = make_request()
    approve(client_for("operator2"), request, password)

    body = client_for("risk").get(f"{BASE}{request.pk}/").json()

    assert body["status"] == "executed"
    assert body["preconditions"] is None
    assert {p["code"]: p["passed"] for p in body["preconditions_at_execution"]} == {
        "target_active": True,
        "not_blocked": True,
    }


def test_api_create_by_the_action_lookup(client_for, policy, target):
    response = post(
        client_for("operator1"),
        BASE,
        {"action": "test_action", "target": "target-user", "reason": "r", "payload": {}},
    )

    assert response.status_code == 201
    assert response.json()["target_id"] == str(target.pk)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        # A blank reason is a missing one ("required", as a missing target_id); an
        # unknown action breaks the request schema (one of the registered actions).
        (
            {"action": "test_action", "target": "target-user", "reason": " "},
            400,
            "required",
            "reason",
        ),
        ({"action": "nope", "target": "x", "reason": "r"}, 400, "invalid", "action"),
        ({"action": "test_action", "target": "nobody", "reason": "r"}, 404, "not_found", "target"),
        (
            {
                "action": "test_action",
                "target_type": "controls.environment",
                "target_id": "1",
                "reason": "r",
            },
            400,
            "wrong_target",
            "target_type",
        ),
        ({"action": "test_action", "reason": "r"}, 400, "required", "target_id"),
        (
            {
                "action": "test_action",
                "target": "target-user",
                "reason": "r",
                "payload": {"block": True},
            },
            409,
            "preconditions_failed",
            None,
        ),
        (
            {"action": "test_action", "target": "target-user", "reason": "r", "payload": [1]},
            400,
            "invalid",
            "payload",
        ),
    ],
)
def test_api_create_bad_input_answers_with_the_error_body(
    client_for, policy, target, body, status, code, field
):
    response = post(client_for("operator1"), BASE, body)

    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error.get("field")) == (code, field)
    assert error["message"]


def test_api_approve_self_approval_is_403(make_request, client_for, password):
    request = make_request()

    response = approve(client_for("operator1"), request, password)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"


def test_api_approve_wrong_password_is_403_on_the_password_field(make_request, client_for):
    request = make_request()

    response = approve(client_for("operator2"), request, "nope")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "password_incorrect",
        "message": "Your password was not accepted.",
        "field": "password",
    }


def test_api_approve_wrong_group_is_403(users, target, client_for, password):
    ApprovalPolicyFactory(eligible_groups=["risk_officer"])
    from opsportal.approvals.services import approval_request_create

    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )

    response = approve(client_for("operator2"), request, password)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_eligible"


def test_api_approve_success_executes(make_request, client_for, password):
    request = make_request()

    response = approve(client_for("risk"), request, password, comment="ok")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "executed"
    assert body["result"] == {"executed_for": "target-user"}
    assert [(d["approver"], d["decision"]) for d in body["decisions"]] == [("risk", "approve")]


def test_api_approve_twice_and_after_execution_is_409(users, target, client_for, password):
    ApprovalPolicyFactory(approvals_required=2)
    from opsportal.approvals.services import approval_request_create

    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    client = client_for("operator2")
    assert approve(client, request, password).status_code == 200

    again = approve(client, request, password)

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_decided"


def test_api_approve_stale_hash_is_409(make_request, client_for, password):
    request = make_request()
    post(client_for("operator1"), f"{BASE}{request.pk}/amend", {"payload": {"size": 5}})

    response = approve(client_for("operator2"), request, password)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payload_changed"


def test_api_approve_missing_password_is_400(make_request, client_for):
    request = make_request()

    response = post(
        client_for("operator2"),
        f"{BASE}{request.pk}/approve",
        {"payload_sha256": request.payload_sha256},
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "password"


def test_api_reject_and_cancel(make_request, client_for, password, users):
    request = make_request()

    rejected = post(
        client_for("risk"), f"{BASE}{request.pk}/reject", {"password": password, "reason": "no"}
    )
    cancel = post(client_for("operator1"), f"{BASE}{request.pk}/cancel", {"reason": "oops"})

    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    assert (cancel.status_code, cancel.json()["error"]["code"]) == (409, "rejected")


def test_api_cancel_by_the_requester(make_request, client_for):
    request = make_request()

    response = post(client_for("operator1"), f"{BASE}{request.pk}/cancel", {"reason": "oops"})

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


def test_api_auditor_reads_but_cannot_decide(make_request, client_for, password):
    request = make_request()
    client = client_for("auditor")

    assert client.get(f"{BASE}{request.pk}/").status_code == 200
    response = approve(client, request, password)

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING


def test_api_unknown_request_is_404(client_for, password):
    response = post(
        client_for("operator2"), f"{BASE}999/approve", {"password": password, "payload_sha256": "x"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_requires_authentication(client):
    response = client.get(BASE)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"


def test_api_list_filters_by_status_and_action_in_fixed_queries(
    users, client_for, policy, password, django_assert_max_num_queries
):
    from opsportal.approvals.services import approval_request_create

    made = [
        approval_request_create(
            action="test_action",
            target=UserFactory(username=f"t{i}"),
            reason="r",
            payload={"i": i},
            actor=users["operator1"],
        )
        for i in range(12)
    ]
    for request in made[1::2]:
        approval_grant(
            request_id=request.pk,
            actor=users["risk"],
            password=password,
            payload_sha256=request.payload_sha256,
        )
    client = client_for("auditor")

    with django_assert_max_num_queries(8):
        executed = client.get(BASE, {"status": "executed", "action": "test_action"})
    pending = client.get(BASE, {"status": "pending"})
    bad = client.get(BASE, {"status": "bogus"})

    assert executed.json()["count"] == 6
    assert all(r["status"] == "executed" for r in executed.json()["results"])
    assert pending.json()["count"] == 6
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "status")


def test_api_schema_includes_the_approval_endpoints(client_for):
    response = client_for("operator1").get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/approvals/{id}/approve" in response.json()["paths"]
