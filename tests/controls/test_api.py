import pytest

from opsportal.approvals.models import ApprovalRequest
from opsportal.audit.models import AuditEvent
from opsportal.controls.models import Environment
from tests.controls.conftest import ALL_ATTESTED

pytestmark = pytest.mark.django_db

WRITES = {
    "trigger": ("kill-switch/trigger", {"reason_code": "drill"}),
    "recover": ("kill-switch/recover", {"reason": "fixed"}),
    "live": ("live-transition", {"reason": "ready", "attestations": ALL_ATTESTED}),
    "rollback": ("rollback", {"reason": "slippage"}),
}


def post(client, slug, what, data=None):
    path, default = WRITES[what]
    return client.post(
        f"/api/v1/environments/{slug}/{path}",
        default if data is None else data,
        content_type="application/json",
    )


def _paper():
    env = Environment.objects.get(slug="paper")
    return env.kill_switch, env.mode


@pytest.mark.parametrize("username", ["operator1", "commander", "risk"])
def test_trigger_api_kills_for_operators_commanders_and_risk(client_for, env, username):
    response = post(client_for(username), "paper", "trigger")

    assert response.status_code == 201
    assert _paper() == ("KILLED", "DRY_RUN")


@pytest.mark.parametrize("username", ["operator1", "commander"])
def test_live_api_asks_for_approval_for_operators_and_commanders(
    client_for, env, library, username
):
    response = post(client_for(username), "paper", "live")

    assert response.status_code == 201
    request = ApprovalRequest.objects.get()
    assert (request.action, request.status, request.requester.username) == (
        "live_transition",
        "pending",
        username,
    )


# Allowed, and refused by the state, not the permission: recovery needs a kill first,
# a rollback needs LIVE.
@pytest.mark.parametrize(
    ("username", "what", "code"),
    [
        ("operator1", "recover", "not_killed"),
        ("commander", "recover", "not_killed"),
        ("operator1", "rollback", "not_live"),
    ],
)
def test_recover_and_rollback_api_reach_the_state_check_for_allowed_roles(
    client_for, env, username, what, code
):
    response = post(client_for(username), "paper", what)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("username", "what"),
    [
        ("auditor", "trigger"),
        ("admin", "trigger"),
        ("risk", "recover"),
        ("auditor", "recover"),
        ("risk", "live"),
        ("auditor", "live"),
        ("risk", "rollback"),
        ("auditor", "rollback"),
    ],
)
def test_controls_api_is_403_and_audited_for_other_roles(
    client_for, users, env, library, username, what
):
    response = post(client_for(username), "paper", what)

    assert response.status_code == 403
    denied = AuditEvent.objects.filter(event_type="access.denied", actor=users[username])
    assert denied.count() == 1
    assert _paper() == ("ACTIVE", "DRY_RUN")
    assert not ApprovalRequest.objects.exists()


def test_api_requires_authentication(client, env):
    assert client.get("/api/v1/environments/").status_code == 403
    assert post(client, "paper", "trigger").status_code == 403


def test_api_status_and_list(client_for, env, django_assert_max_num_queries):
    client = client_for("auditor")

    with django_assert_max_num_queries(8):
        listing = client.get("/api/v1/environments/")

    assert listing.status_code == 200
    assert [e["slug"] for e in listing.json()] == ["paper"]
    status = client.get("/api/v1/environments/paper/").json()
    assert (status["mode"], status["kill_switch"], status["gate"]["decision"]) == (
        "DRY_RUN",
        "ACTIVE",
        "ALLOW",
    )


def test_api_unknown_environment_is_404_json(client_for, env):
    response = client_for("operator1").get("/api/v1/environments/nope/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_environment"


def test_api_trigger_then_status_shows_halt(client_for, env, library):
    client = client_for("operator1")

    response = post(client, "paper", "trigger", {"reason_code": "manual", "note": "spike"})

    assert response.status_code == 201
    body = response.json()
    assert body["environment"]["gate"]["decision"] == "HALT"
    assert body["event"]["incident"] is not None
    history = client.get("/api/v1/environments/paper/history").json()
    assert history[0]["kind"] == "triggered" and history[0]["note"] == "spike"


def test_api_trigger_bad_reason_code_is_400_naming_the_field(client_for, env):
    response = post(client_for("operator1"), "paper", "trigger", {"reason_code": "bogus"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "reason_code"


def test_api_trigger_unknown_incident_is_400(client_for, env):
    response = post(
        client_for("operator1"), "paper", "trigger", {"reason_code": "manual", "incident": 999}
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "incident"
    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_api_recover_in_cooldown_is_409_cooldown(client_for, env, library):
    client = client_for("operator1")
    post(client, "paper", "trigger")

    response = post(client, "paper", "recover")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cooldown"


def test_api_recover_after_cooldown_is_201_with_request(client_for, env, library, fast):
    client = client_for("operator1")
    post(client, "paper", "trigger")

    response = post(client, "paper", "recover")

    assert response.status_code == 201
    assert response.json()["approval_request"]["status"] == "pending"


def test_api_recover_without_reason_is_400(client_for, env, library, fast):
    client = client_for("operator1")
    post(client, "paper", "trigger")

    response = post(client, "paper", "recover", {})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "reason"


def test_api_recover_with_a_blank_reason_is_400_required(client_for, env, library, fast):
    client = client_for("operator1")
    post(client, "paper", "trigger")

    response = post(client, "paper", "recover", {"reason": "   "})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "required"


def test_api_live_transition_201_then_409_when_preconditions_fail(client_for, env, library):
    client = client_for("operator1")

    created = post(client, "paper", "live")
    again = post(client_for("commander"), "paper", "live")

    assert created.status_code == 201
    assert created.json()["approval_request"]["action"] == "live_transition"
    assert again.status_code == 409


def test_api_live_transition_unattested_is_409_listing_items(client_for, env, library):
    response = post(
        client_for("operator1"),
        "paper",
        "live",
        {"reason": "x", "attestations": {"1": True}},
    )

    assert response.status_code == 409
    assert "Pre-live checklist" in response.json()["error"]["message"]


def test_api_live_transition_bad_attestations_is_400(client_for, env, library):
    response = post(
        client_for("operator1"), "paper", "live", {"reason": "x", "attestations": "yes"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "attestations"


def test_api_rollback_when_dry_run_is_409(client_for, env):
    response = post(client_for("operator1"), "paper", "rollback")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_live"


def test_api_rollback_when_live_is_201(client_for, env, make_live):
    make_live(env)

    response = post(client_for("operator2"), "paper", "rollback")

    assert response.status_code == 201
    assert response.json()["environment"]["mode"] == "DRY_RUN"


def test_api_recover_with_an_overlong_reason_is_400_too_long(client_for, env, library, fast):
    client = client_for("operator1")
    post(client, "paper", "trigger")

    response = post(client, "paper", "recover", {"reason": "x" * 4001})

    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (
        "too_long",
        "reason",
    )
