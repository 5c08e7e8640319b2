import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from opsportal.signoffs.models import Signoff
from opsportal.signoffs.services import signable_sha256
from tests.drills.factories import completed_run, plan, start
from tests.factories import PASSWORD


@pytest.fixture
def api_for(users):
    def make(username):
        client = APIClient()
        client.force_authenticate(users[username])
        return client

    return make


def test_run_list_api_in_fixed_queries(
    version, paper, users, api_for, django_assert_max_num_queries
):
    for _ in range(5):
        plan(version=version, environment=paper, lead=users["operator1"])

    with django_assert_max_num_queries(6):
        response = api_for("auditor").get(reverse("drills-api-runs"), {"state": "planned"})

    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert response.json()["results"][0]["procedure"] == "kill-switch-drill"


def test_run_detail_api_shows_steps_signoffs_and_hash(version, paper, users, api_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    body = api_for("operator1").get(reverse("drills-api-run", args=[run.pk])).json()

    assert body["state"] == "completed"
    assert [s["outcome"] for s in body["steps"]] == ["pass", "pass", "pass"]
    assert body["required_signoff_roles"] == ["drill_lead", "risk_officer"]
    assert body["content_sha256"] == signable_sha256(run)


def test_run_detail_api_unknown_is_404_json(users, api_for):
    response = api_for("operator1").get(reverse("drills-api-run", args=[999]))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_step_record_api_over_target_becomes_fail(version, paper, users, api_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    step = run.step_results.get(position=1)

    response = api_for("operator1").post(
        reverse("drills-api-step-record", args=[run.pk, step.pk]),
        {"outcome": "pass", "measured_seconds": "10.5", "evidence_links": ["https://x.test/1"]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["outcome"] == "fail"
    assert "exceeds" in response.json()["outcome_reason"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"outcome": "maybe"}, 400, "invalid"),
        ({"outcome": "skipped"}, 400, "invalid"),
        ({"outcome": "pass", "measured_seconds": "-3"}, 400, "invalid"),
    ],
)
def test_step_record_api_bad_input_is_400_json(
    version, paper, users, api_for, payload, status, code
):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    step = run.step_results.get(position=2)

    response = api_for("operator1").post(
        reverse("drills-api-step-record", args=[run.pk, step.pk]), payload, format="json"
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_step_record_api_before_start_is_409(version, paper, users, api_for):
    run = plan(version=version, environment=paper, lead=users["operator1"])
    step = run.step_results.get(position=2)

    response = api_for("operator1").post(
        reverse("drills-api-step-record", args=[run.pk, step.pk]),
        {"outcome": "fail"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_recording"


def test_step_record_api_needs_the_run_permission(version, paper, users, api_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    step = run.step_results.get(position=2)

    response = api_for("risk").post(
        reverse("drills-api-step-record", args=[run.pk, step.pk]),
        {"outcome": "fail"},
        format="json",
    )

    assert response.status_code == 403
    assert "error" in response.json()


def sign(client, run, role, **overrides):
    data = {
        "role": overrides.pop("as_role", role),
        "password": PASSWORD,
        "content_sha256": signable_sha256(run),
        **overrides,
    }
    return client.post(reverse("drills-api-sign", args=[run.pk]), data, format="json")


def test_sign_api_flow(version, paper, users, api_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    first = sign(api_for("operator1"), run, "drill_lead")
    twice = sign(api_for("operator1"), run, "risk_officer")
    run.refresh_from_db()
    second = sign(api_for("risk"), run, "risk_officer")

    assert first.status_code == 201 and first.json()["role"] == "drill_lead"
    assert twice.status_code == 403  # operator1 is no risk officer
    assert second.status_code == 201
    run.refresh_from_db()
    assert run.state == "signed_off"


def test_sign_api_same_user_twice_is_409(version, paper, users, api_for):
    from tests.factories import UserFactory

    lead = UserFactory(username="lead-risk", roles=["operator", "risk_officer"])
    run = completed_run(version=version, environment=paper, lead=lead)
    client = APIClient()
    client.force_authenticate(lead)
    sign(client, run, "drill_lead")

    response = sign(client, run, "risk_officer")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "same_signer"


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"password": "wrong"}, 403, "password_incorrect"),
        ({"content_sha256": "a" * 64}, 409, "stale_content"),
        ({"content_sha256": "not-a-hash"}, 400, "invalid"),
        ({"as_role": "observer"}, 400, "role_not_required"),
    ],
)
def test_sign_api_refusals(version, paper, users, api_for, overrides, status, code):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    response = sign(api_for("operator1"), run, "drill_lead", **overrides)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not Signoff.objects.exists()


def test_sign_api_auditor_is_forbidden(version, paper, users, api_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    assert sign(api_for("auditor"), run, "drill_lead").status_code == 403


def test_step_record_api_after_signing_shows_the_signoff_no_longer_valid(
    version, paper, users, api_for
):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    client = api_for("operator1")
    sign(client, run, "drill_lead")
    step = run.step_results.get(position=2)

    response = client.post(
        reverse("drills-api-step-record", args=[run.pk, step.pk]),
        {"outcome": "fail", "observations": "order leaked"},
        format="json",
    )

    assert response.status_code == 200
    body = client.get(reverse("drills-api-run", args=[run.pk])).json()
    assert [s["valid"] for s in body["signoffs"]] == [False]


def test_run_detail_api_in_fixed_queries(
    version, paper, users, api_for, django_assert_max_num_queries
):
    run = completed_run(
        version=version,
        environment=paper,
        lead=users["operator1"],
        observer=users["operator2"],
        participants=(users["commander"],),
    )

    with django_assert_max_num_queries(14):
        response = api_for("auditor").get(reverse("drills-api-run", args=[run.pk]))

    assert len(response.json()["steps"]) == 3
