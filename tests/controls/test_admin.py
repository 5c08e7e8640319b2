import pytest

from opsportal.audit.models import AuditEvent
from opsportal.controls import services
from opsportal.controls.models import Environment, GateToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client_for, users):
    users["admin"].is_staff = True
    users["admin"].save(update_fields=["is_staff"])
    return client_for("admin")


def test_admin_creates_an_environment_in_dry_run_with_an_audit_event(admin_client):
    response = admin_client.post(
        "/admin/controls/environment/add/",
        {"slug": "binance-live", "name": "Binance", "venue": "Binance", "description": ""},
    )

    assert response.status_code == 302
    env = Environment.objects.get(slug="binance-live")
    assert (env.mode, env.kill_switch, env.version) == ("DRY_RUN", "ACTIVE", 1)
    assert AuditEvent.objects.filter(event_type="environment.created").count() == 1


def test_admin_cannot_change_mode_or_kill_switch(admin_client, env):
    response = admin_client.post(
        f"/admin/controls/environment/{env.pk}/change/",
        {
            "slug": "paper",
            "name": "Renamed",
            "venue": "paper",
            "description": "",
            "recovery_cooldown_seconds": "60",
            "mode": "LIVE",
            "kill_switch": "KILLED",
        },
    )

    env.refresh_from_db()
    assert response.status_code == 302
    assert (env.name, env.recovery_cooldown_seconds) == ("Renamed", 60)
    assert (env.mode, env.kill_switch) == ("DRY_RUN", "ACTIVE")


def test_admin_revokes_gate_tokens(admin_client, env, users):
    token, _ = services.gate_token_issue(name="e1", environment=env, actor=users["admin"])

    response = admin_client.post(
        "/admin/controls/gatetoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    assert GateToken.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(event_type="gate_token.revoked").count() == 1


def test_operator_may_only_view_environments_in_the_admin(client_for, users, env):
    users["operator1"].is_staff = True
    users["operator1"].save(update_fields=["is_staff"])
    client = client_for("operator1")

    response = client.post(
        f"/admin/controls/environment/{env.pk}/change/",
        {"slug": "paper", "name": "Hijacked", "venue": "", "description": ""},
    )

    assert response.status_code == 403
    assert Environment.objects.get().name != "Hijacked"
    assert client.get("/admin/controls/gatetoken/").status_code == 403


def test_kill_page_form_without_prefix_triggers(client_for, env, library):
    response = client_for("operator1").post(
        "/environments/kill/", {"environment": "paper", "reason_code": "drill", "note": "x"}
    )

    assert response.status_code == 302
    assert Environment.objects.get().kill_switch == "KILLED"
