import io

import pytest
from django.core.management import call_command
from django.test import Client

from opsportal.audit.models import AuditEvent
from opsportal.controls import services
from opsportal.controls.models import ApiToken, Environment

pytestmark = pytest.mark.django_db


def token_for(users, username):
    return services.api_token_issue(user=users[username], name="cli", actor=users["admin"])[1]


def trigger(raw):
    # A fresh client with CSRF checks on: a token request needs no session or CSRF.
    return Client(enforce_csrf_checks=True).post(
        "/api/v1/environments/paper/kill-switch/trigger",
        {"reason_code": "drill"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )


def test_api_token_acts_as_its_user(env, users, library):
    response = trigger(token_for(users, "operator1"))

    assert response.status_code == 201
    assert Environment.objects.get().kill_switch == "KILLED"
    event = AuditEvent.objects.get(event_type="kill_switch.triggered")
    assert event.actor == users["operator1"]


def test_api_token_has_only_its_users_permissions(env, users):
    response = trigger(token_for(users, "auditor"))

    assert response.status_code == 403
    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_revoked_api_token_is_refused(env, users):
    raw = token_for(users, "operator1")
    services.api_token_revoke(token_id=ApiToken.objects.get().pk, actor=users["admin"])

    assert trigger(raw).status_code == 403
    assert Environment.objects.get().kill_switch == "ACTIVE"


def test_api_token_of_inactive_user_is_refused(env, users):
    raw = token_for(users, "operator1")
    users["operator1"].is_active = False
    users["operator1"].save(update_fields=["is_active"])

    assert trigger(raw).status_code == 403


def test_api_token_cannot_read_the_gate(env, users):
    raw = token_for(users, "operator1")

    response = Client().get("/api/v1/environments/paper/gate", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert response.json()["decision"] == "HALT"


def test_issue_api_token_command_prints_a_working_token(env, users):
    out = io.StringIO()
    call_command("issue_api_token", "--user", "operator2", "--name", "laptop", stdout=out)

    response = Client().get(
        "/api/v1/environments/paper/", HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}"
    )
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None
