import pytest

from opsportal.approvals.services import approval_grant
from opsportal.controls import services
from opsportal.controls.models import Environment
from tests.controls.conftest import ALL_ATTESTED
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def test_environment_list_shows_mode_kill_switch_and_gate_in_fixed_queries(
    client_for, env, django_assert_max_num_queries
):
    for n in range(5):
        EnvironmentFactory(slug=f"extra-{n}")
    client = client_for("operator1")

    with django_assert_max_num_queries(12):
        response = client.get("/environments/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "paper" in html and "extra-4" in html and "ALLOW" in html


def test_environment_detail_in_fixed_queries(
    client_for, env, users, library, kill, django_assert_max_num_queries
):
    kill(env)
    client = client_for("operator1")

    with django_assert_max_num_queries(20):
        response = client.get("/environments/paper/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "HALT_KILL_SWITCH" in html
    assert "Start recovery" in html


def test_header_kill_button_only_for_users_who_may_trigger(client_for, env):
    operator_page = client_for("operator1").get("/environments/").content.decode()
    auditor_page = client_for("auditor").get("/environments/").content.decode()

    assert "Confirm kill" in operator_page
    assert "Confirm kill" not in auditor_page


def test_header_kill_form_triggers_and_redirects_to_the_environment(client_for, env, library):
    response = client_for("operator2").post(
        "/environments/kill/",
        {"prefix": "hdr", "hdr-environment": "paper", "hdr-reason_code": "manual", "hdr-note": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == "/environments/paper/"
    assert Environment.objects.get().kill_switch == "KILLED"


def test_kill_form_with_bad_input_rerenders_with_errors(client_for, env):
    response = client_for("operator2").post(
        "/environments/kill/",
        {"prefix": "hdr", "hdr-environment": "nope", "hdr-reason_code": "bogus"},
    )

    assert response.status_code == 400
    assert b"errors" in response.content
    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_recover_in_cooldown_rerenders_detail_with_message(client_for, env, library, kill):
    kill(env)

    response = client_for("operator1").post(
        "/environments/paper/recover/", {"recover-reason": "fixed"}
    )

    assert response.status_code == 400
    assert "Cooldown" in response.content.decode()


def test_recover_after_cooldown_redirects(client_for, env, library, kill, fast):
    kill(env)

    response = client_for("operator1").post(
        "/environments/paper/recover/", {"recover-reason": "fixed"}
    )

    assert response.status_code == 302
    assert Environment.objects.get().kill_switch == "RECOVERING"


def test_go_live_form_with_all_items_opens_request(client_for, env, library):
    data = {"live-reason": "ready", "live-attest_1": "on", "live-attest_2": "on"}
    data["live-attest_3"] = "on"

    response = client_for("operator1").post("/environments/paper/go-live/", data)

    assert response.status_code == 302
    from opsportal.approvals.models import ApprovalRequest

    assert ApprovalRequest.objects.get().action == "live_transition"


def test_go_live_form_missing_item_rerenders_with_the_failing_line(client_for, env, library):
    response = client_for("operator1").post(
        "/environments/paper/go-live/", {"live-reason": "ready", "live-attest_1": "on"}
    )

    assert response.status_code == 400
    assert "not attested" in response.content.decode()


def test_rollback_form(client_for, env, make_live):
    make_live(env)

    response = client_for("operator2").post(
        "/environments/paper/rollback/", {"rollback-reason": "slippage"}
    )

    assert response.status_code == 302
    assert Environment.objects.get().mode == "DRY_RUN"


@pytest.mark.parametrize(
    "path",
    [
        "/environments/kill/",
        "/environments/paper/recover/",
        "/environments/paper/go-live/",
        "/environments/paper/rollback/",
    ],
)
def test_auditor_cannot_post_control_actions(client_for, env, path):
    assert client_for("auditor").post(path, {}).status_code == 403


def test_risk_officer_may_kill_but_not_roll_back_or_request_live(client_for, env):
    client = client_for("risk")

    assert client.post("/environments/paper/rollback/", {}).status_code == 403
    assert client.post("/environments/paper/go-live/", {}).status_code == 403
    assert client.get("/environments/kill/").status_code == 200


def test_dashboard_panel_shows_environments_with_gate(client_for, env):
    html = client_for("auditor").get("/").content.decode()

    assert "Trading environments" in html and "ALLOW" in html


def test_going_live_history_names_the_requester_and_approver_and_links_the_request(
    client_for, env, users, library, password
):
    request = services.live_transition_request(
        environment=env, actor=users["operator1"], reason="ready", attestations=ALL_ATTESTED
    )
    approval_grant(
        request_id=request.pk,
        actor=users["operator2"],
        password=password,
        payload_sha256=request.payload_sha256,
    )

    html = client_for("auditor").get("/environments/paper/").content.decode()

    assert "requested by operator1, approved by operator2" in html
    assert f'<a href="/approvals/{request.pk}/">request #{request.pk}</a>' in html


def test_kill_history_row_links_the_incident_it_opened(client_for, env, library, kill):
    event = kill(env)
    event.refresh_from_db()

    html = client_for("operator1").get("/environments/paper/").content.decode()

    assert event.incident_id is not None
    assert f'<a href="/incidents/{event.incident_id}/">incident #{event.incident_id}</a>' in html
    assert "Manual: test</td>" in html
