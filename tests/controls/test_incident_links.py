"""Issue 14 item 6: a control change of environment X may link only an open incident of
X (or of no environment). Linking Y's incident would leave X's kill without its SEV1,
so every path refuses it with 400 naming `incident` and changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident
from incidents.services import incident_open
from opsportal.controls import services
from opsportal.controls.models import Environment
from opsportal.core.errors import ValidationFailed
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_incident(users):
    """An open SEV2 of valr-live (environment Y)."""
    valr = EnvironmentFactory(slug="valr-live")
    return incident_open(
        actor=users["operator1"], title="Broker lag", severity="SEV2", environment=valr
    )


def test_api_trigger_with_another_environments_incident_is_400_naming_incident(
    client_for, env, library, other_incident
):
    response = client_for("operator1").post(
        "/api/v1/environments/paper/kill-switch/trigger",
        {"reason_code": "manual", "incident": other_incident.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "incident"
    assert "valr-live" in response.json()["error"]["message"]
    assert Environment.objects.get(slug="paper").kill_switch == "ACTIVE"


def test_kill_form_with_another_environments_incident_rerenders_with_the_error(
    client_for, env, library, other_incident
):
    response = client_for("operator1").post(
        "/environments/kill/",
        {
            "prefix": "hdr",
            "hdr-environment": "paper",
            "hdr-reason_code": "manual",
            "hdr-incident": str(other_incident.pk),
        },
    )

    assert response.status_code == 400
    assert f"Incident #{other_incident.pk} is about valr-live" in response.content.decode()
    assert Environment.objects.get(slug="paper").kill_switch == "ACTIVE"


def test_killswitch_command_with_another_environments_incident_is_refused(
    env, users, library, other_incident
):
    with pytest.raises(CommandError, match="is about valr-live"):
        call_command(
            "killswitch",
            "trigger",
            "--env",
            "paper",
            "--as",
            "operator1",
            "--incident",
            str(other_incident.pk),
            stdout=io.StringIO(),
        )

    assert Environment.objects.get(slug="paper").kill_switch == "ACTIVE"


def test_kill_switch_trigger_service_refuses_another_environments_incident(
    env, users, library, other_incident
):
    with pytest.raises(ValidationFailed) as refused:
        services.kill_switch_trigger(
            environment=env,
            actor=users["operator1"],
            reason_code="manual",
            incident_id=other_incident.pk,
        )

    assert refused.value.field == "incident"
    assert Environment.objects.get(slug="paper").kill_switch == "ACTIVE"


def test_kill_switch_trigger_links_an_incident_of_the_same_environment(env, users, library):
    own = incident_open(
        actor=users["operator1"], title="Fills odd", severity="SEV2", environment=env
    )

    event = services.kill_switch_trigger(
        environment=env, actor=users["operator2"], reason_code="manual", incident_id=own.pk
    )

    assert event.incident_id == own.pk
    assert Incident.objects.count() == 1


def test_mode_rollback_refuses_another_environments_incident(env, users, make_live, other_incident):
    make_live(env)

    with pytest.raises(ValidationFailed) as refused:
        services.mode_rollback(
            environment=env,
            actor=users["operator1"],
            reason="slippage",
            incident_id=other_incident.pk,
        )

    assert refused.value.field == "incident"
    assert Environment.objects.get(slug="paper").mode == "LIVE"
