"""Issue 14 item 1: who may *request* a four-eyes action is declared with the action
(`ActionSpec.request_permission`) and enforced by the approvals engine, so every path
agrees: the browser forms, controls' own API endpoints, the generic
`/api/v1/approvals/` API, the `killswitch` command and a direct service call.

live_transition needs `controls.request_live_transition`, kill_switch_resume needs
`controls.recover_killswitch`: operators and incident commanders hold both; the risk
officer (who approves), the auditor and the admin hold neither."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import all_actions, request_permissions
from opsportal.approvals.services import approval_cancel, approval_request_create
from opsportal.audit.models import AuditEvent
from opsportal.controls import services
from opsportal.controls.models import Environment
from opsportal.core.errors import NotPermitted
from tests.controls.conftest import ALL_ATTESTED

pytestmark = pytest.mark.django_db

# What each role sees on every path: the request is made, or it is refused.
EXPECTED = {
    "operator1": "created",
    "commander": "created",
    "risk": "refused",
    "auditor": "refused",
    "admin": "refused",
}
HTTP_OUTCOME = {201: "created", 302: "created", 403: "refused"}

LIVE_PAYLOAD = {"environment": "paper", "attestations": ALL_ATTESTED}


def _http(response) -> str:
    return HTTP_OUTCOME.get(response.status_code, f"{response.status_code} {response.content!r}")


def _generic_api(client, action: str, payload: dict) -> str:
    body = {"action": action, "target": "paper", "reason": "ready", "payload": payload}
    return _http(client.post("/api/v1/approvals/", body, content_type="application/json"))


def _service(users, username: str, action: str, payload: dict) -> str:
    try:
        approval_request_create(
            action=action,
            target=Environment.objects.get(slug="paper"),
            reason="ready",
            payload=payload,
            actor=users[username],
        )
    except NotPermitted as exc:
        return {"not_permitted_to_request": "refused"}.get(exc.code, exc.code)
    return "created"


def _recovering_without_request(users, kill) -> None:
    """paper RECOVERING with no open resume request (operator2 started recovery and
    withdrew it): the state in which the generic API could ask for a resume."""
    kill(Environment.objects.get(slug="paper"), by="operator2")
    request = services.kill_switch_recover(
        environment=Environment.objects.get(slug="paper"), actor=users["operator2"], reason="ok"
    )
    approval_cancel(request_id=request.pk, actor=users["operator2"], reason="wrong moment")


def _nothing(users, kill) -> None:
    pass


def _killed(users, kill) -> None:
    kill(Environment.objects.get(slug="paper"), by="operator2")


def _command_recover(username: str) -> str:
    try:
        call_command(
            "killswitch",
            "recover",
            "--env",
            "paper",
            "--as",
            username,
            "--reason",
            "fixed",
            stdout=io.StringIO(),
        )
    except CommandError:
        return "refused"
    return "created"


Path = Callable[..., str]
PATHS: dict[tuple[str, str], tuple[Callable[..., None], Path]] = {
    ("live_transition", "browser"): (
        _nothing,
        lambda c, u, n: _http(
            c.post(
                "/environments/paper/go-live/",
                {"live-reason": "ready", **{f"live-attest_{k}": "on" for k in ALL_ATTESTED}},
            )
        ),
    ),
    ("live_transition", "controls_api"): (
        _nothing,
        lambda c, u, n: _http(
            c.post(
                "/api/v1/environments/paper/live-transition",
                {"reason": "ready", "attestations": ALL_ATTESTED},
                content_type="application/json",
            )
        ),
    ),
    ("live_transition", "approvals_api"): (
        _nothing,
        lambda c, u, n: _generic_api(c, "live_transition", LIVE_PAYLOAD),
    ),
    ("live_transition", "service"): (
        _nothing,
        lambda c, u, n: _service(u, n, "live_transition", LIVE_PAYLOAD),
    ),
    ("kill_switch_resume", "browser"): (
        _killed,
        lambda c, u, n: _http(c.post("/environments/paper/recover/", {"recover-reason": "fixed"})),
    ),
    ("kill_switch_resume", "controls_api"): (
        _killed,
        lambda c, u, n: _http(
            c.post(
                "/api/v1/environments/paper/kill-switch/recover",
                {"reason": "fixed"},
                content_type="application/json",
            )
        ),
    ),
    ("kill_switch_resume", "command"): (_killed, lambda c, u, n: _command_recover(n)),
    ("kill_switch_resume", "approvals_api"): (
        _recovering_without_request,
        lambda c, u, n: _generic_api(c, "kill_switch_resume", {"environment": "paper"}),
    ),
    ("kill_switch_resume", "service"): (
        _recovering_without_request,
        lambda c, u, n: _service(u, n, "kill_switch_resume", {"environment": "paper"}),
    ),
}


@pytest.mark.parametrize("username", list(EXPECTED))
@pytest.mark.parametrize("action_path", list(PATHS), ids=lambda p: f"{p[0]}-{p[1]}")
def test_who_may_request_an_action_is_the_same_on_every_path(
    env, library, fast, kill, users, client_for, action_path, username
):
    setup, path = PATHS[action_path]
    setup(users, kill)

    outcome = path(client_for(username), users, username)

    made = ApprovalRequest.objects.filter(action=action_path[0], requester__username=username)
    assert (outcome, made.count()) == (EXPECTED[username], int(EXPECTED[username] == "created"))


def test_risk_officer_asking_to_go_live_through_the_approvals_api_is_refused_and_audited(
    env, library, client_for
):
    response = client_for("risk").post(
        "/api/v1/approvals/",
        {"action": "live_transition", "target": "paper", "reason": "go", "payload": LIVE_PAYLOAD},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_permitted_to_request"
    assert "controls.request_live_transition" in response.json()["error"]["message"]
    refused = AuditEvent.objects.get(event_type="approval.refused")
    assert (refused.actor.username, refused.metadata["code"], refused.metadata["action"]) == (
        "risk",
        "not_permitted_to_request",
        "live_transition",
    )
    assert not ApprovalRequest.objects.exists()


def test_every_registered_action_declares_who_may_request_it():
    declared = {spec.action: request_permissions(spec) for spec in all_actions()}

    assert declared["live_transition"] == ("controls.request_live_transition",)
    assert declared["kill_switch_resume"] == ("controls.recover_killswitch",)
    assert all(declared.values())
