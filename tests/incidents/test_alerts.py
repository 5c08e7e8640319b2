"""Alert ingestion with real Alertmanager (webhook v4) and Grafana payloads (from
their documentation): firing → one incident; firing again → the same incident;
resolved → a timeline entry; a bad payload → 400 naming the field, no incident."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidents.alerts.views import hash_token
from incidents.models import (
    Alert,
    AlertIntegration,
    AlertKillSwitchRule,
    Incident,
    TimelineEntry,
)
from incidents.services import incident_transition
from opsportal.controls.models import KillSwitchEvent
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "am-token-0123456789abcdefghijklmnop"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def alertmanager(db):
    return AlertIntegration.objects.create(
        name="prod alertmanager", source="alertmanager", token_sha256=hash_token(TOKEN)
    )


@pytest.fixture
def grafana(db):
    return AlertIntegration.objects.create(
        name="grafana", source="grafana", token_sha256=hash_token("gf-" + TOKEN)
    )


def post(client, source: str, body, token: str = TOKEN):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/alerts/{source}",
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_firing_opens_one_incident_with_the_mapped_severity(client, alertmanager):
    response = post(client, "alertmanager", payload("alertmanager_firing.json"))
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert incident.severity == "SEV1"  # severity=critical
    assert incident.title == "PnLDrawdownBreached: Intraday drawdown over limit"
    assert response.json()["opened"] == [incident.reference]
    assert TimelineEntry.objects.filter(incident=incident, kind="alert").count() == 1


def test_firing_again_joins_the_same_incident(client, alertmanager):
    post(client, "alertmanager", payload("alertmanager_firing.json"))
    response = post(client, "alertmanager", payload("alertmanager_firing.json"))
    assert Incident.objects.count() == 1
    assert response.json()["joined"] == [Incident.objects.get().reference]
    assert Alert.objects.get().times_received == 2


def test_resolved_adds_a_timeline_entry(client, alertmanager):
    post(client, "alertmanager", payload("alertmanager_firing.json"))
    post(client, "alertmanager", payload("alertmanager_resolved.json"))
    incident = Incident.objects.get()
    bodies = list(
        TimelineEntry.objects.filter(incident=incident, kind="alert").values_list("body", flat=True)
    )
    assert any(b.startswith("Alert resolved: PnLDrawdownBreached") for b in bodies)
    assert Alert.objects.get().state == "resolved"


def test_all_alerts_resolved_moves_a_mitigating_incident_to_monitoring(client, alertmanager, users):
    post(client, "alertmanager", payload("alertmanager_firing.json"))
    incident = Incident.objects.get()
    for verb in ("acknowledge", "investigate", "mitigate"):
        incident_transition(verb=verb, actor=users["commander"], incident_id=incident.pk)
    post(client, "alertmanager", payload("alertmanager_resolved.json"))
    incident.refresh_from_db()
    assert incident.status == "monitoring"


def test_grafana_payload_opens_an_incident(client, grafana):
    response = post(client, "grafana", payload("grafana_firing.json"), token="gf-" + TOKEN)
    assert response.status_code == 200
    assert Incident.objects.get().severity == "SEV3"  # severity=warning


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(version="3"), "version"),
        (lambda p: p.update(alerts=[]), "alerts"),
        (lambda p: p["alerts"][0].update(status="burning"), "alerts[0].status"),
        (lambda p: p["alerts"][0]["labels"].pop("alertname"), "alerts[0].labels.alertname"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda p: p["alerts"][0]["labels"].update(job=7), "alerts[0].labels.job"),
    ],
)
def test_bad_payload_is_400_naming_the_field_and_writes_nothing(
    client, alertmanager, mutate, field
):
    body = payload("alertmanager_firing.json")
    body["alerts"].append(dict(body["alerts"][0], fingerprint="other"))
    mutate(body)
    response = post(client, "alertmanager", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Incident.objects.exists()


def test_not_json_is_400(client, alertmanager):
    response = post(client, "alertmanager", "{not json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"


def test_without_a_valid_token_is_401(client, alertmanager, grafana):
    assert (
        post(client, "alertmanager", payload("alertmanager_firing.json"), token="x").status_code
        == 401
    )
    # Grafana's token does not open the Alertmanager endpoint.
    wrong = post(client, "alertmanager", payload("alertmanager_firing.json"), token="gf-" + TOKEN)
    assert wrong.status_code == 401
    assert not Incident.objects.exists()


def test_admin_mapping_changes_the_severity(client, alertmanager):
    alertmanager.severity_map = {"critical": "SEV2"}
    alertmanager.save()
    post(client, "alertmanager", payload("alertmanager_firing.json"))
    assert Incident.objects.get().severity == "SEV2"


def test_kill_rule_triggers_the_kill_switch_as_the_system(
    client, alertmanager, django_capture_on_commit_callbacks
):
    env = EnvironmentFactory(slug="paper")
    AlertKillSwitchRule.objects.create(
        alert_name="PnLDrawdownBreached", environment=env, enabled=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "alertmanager", payload("alertmanager_firing.json"))
    env.refresh_from_db()
    assert env.kill_switch == "KILLED"
    event = KillSwitchEvent.objects.get(kind="triggered")
    incident = Incident.objects.get()  # the alert's incident, no second SEV1 from the kill
    assert event.actor is None and event.incident_id == incident.pk
    assert incident.severity == "SEV1" and incident.trading_halted


def test_a_disabled_kill_rule_does_nothing(
    client, alertmanager, django_capture_on_commit_callbacks
):
    env = EnvironmentFactory(slug="paper")
    AlertKillSwitchRule.objects.create(alert_name="PnLDrawdownBreached", environment=env)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "alertmanager", payload("alertmanager_firing.json"))
    env.refresh_from_db()
    assert env.kill_switch == "ACTIVE"
