"""The header on every page (issue 14, items 8 and 9): the kill button preselects the
environment of the page and links the kill to the page's open incident; the gate
strip shows every environment's decision, computed by the gate's `decide`, in a
fixed number of queries."""

import pytest

from incidents.models import Incident
from incidents.services import incident_decline, incident_open
from opsportal.controls.models import KillSwitchEvent
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import plan, publish

pytestmark = pytest.mark.django_db

SELECTED_VALR = '<option value="valr-live" selected>'


@pytest.fixture
def valr(env):  # `env` is paper, the first environment in the list
    return EnvironmentFactory(slug="valr-live")


@pytest.fixture
def valr_incident(valr, users):
    return incident_open(
        actor=users["operator1"], title="Router rejects orders", severity="SEV2", environment=valr
    )


def header_post(client, **fields):
    data = {"prefix": "hdr", "hdr-reason_code": "manual", "hdr-note": ""}
    data.update({f"hdr-{name}": value for name, value in fields.items()})
    return client.post("/environments/kill/", data)


def test_header_on_an_incident_page_preselects_the_incidents_environment(client_for, valr_incident):
    html = client_for("operator1").get(f"/incidents/{valr_incident.pk}/").content.decode()

    assert SELECTED_VALR in html
    assert '<option value="paper" selected>' not in html


def test_header_on_an_environment_page_preselects_it(client_for, valr):
    html = client_for("operator1").get("/environments/valr-live/").content.decode()

    assert SELECTED_VALR in html


def test_header_on_a_drill_run_page_preselects_the_runs_environment(client_for, valr, users):
    run = plan(version=publish(), environment=valr, lead=users["operator1"])

    html = client_for("operator1").get(f"/drills/runs/{run.pk}/").content.decode()

    assert SELECTED_VALR in html


def test_header_on_an_open_incident_carries_its_number_for_the_kill(client_for, valr_incident):
    html = client_for("operator1").get(f"/incidents/{valr_incident.pk}/").content.decode()

    assert f'name="hdr-from_incident" value="{valr_incident.pk}"' in html


def test_header_on_a_declined_incident_links_nothing(client_for, valr_incident, users):
    incident_decline(actor=users["commander"], incident=valr_incident, reason="false alarm")

    html = client_for("operator1").get(f"/incidents/{valr_incident.pk}/").content.decode()

    assert "hdr-from_incident" not in html


def test_header_kill_from_an_incident_page_links_the_kill_to_it(client_for, valr_incident, library):
    response = header_post(
        client_for("operator1"),
        environment="valr-live",
        from_incident=valr_incident.pk,
        from_environment="valr-live",
    )

    assert response.status_code == 302
    assert KillSwitchEvent.objects.get().incident_id == valr_incident.pk
    assert Incident.objects.count() == 1


def test_header_kill_of_another_environment_than_the_pages_does_not_link_its_incident(
    client_for, valr_incident, library
):
    header_post(
        client_for("operator1"),
        environment="paper",
        from_incident=valr_incident.pk,
        from_environment="valr-live",
    )

    event = KillSwitchEvent.objects.get()
    assert event.incident_id not in (None, valr_incident.pk)  # paper's own SEV1


def test_kill_switch_page_prefills_environment_and_incident_from_the_query(
    client_for, valr_incident
):
    url = f"/environments/kill/?environment=valr-live&incident={valr_incident.pk}"

    html = client_for("operator1").get(url).content.decode()

    assert SELECTED_VALR in html
    assert f'value="{valr_incident.pk}"' in html


# --- item 9: the gate strip ---


def test_header_shows_every_environments_gate_decision_as_text(client_for, valr, kill):
    kill(valr)

    html = client_for("auditor").get("/incidents/").content.decode()

    assert 'data-testid="gate-paper"' in html and 'data-testid="gate-valr-live"' in html
    assert "valr-live <strong>HALT</strong>" in html
    assert "paper <strong>ALLOW</strong>" in html
    assert "gate-halt" in html and "gate-allow" in html


def test_header_gate_strip_costs_the_same_queries_for_one_or_many_environments(
    client_for, env, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("operator1")
    client.get("/incidents/")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        client.get("/incidents/")
    for n in range(6):
        EnvironmentFactory(slug=f"extra-{n}")

    with django_assert_num_queries(len(one.captured_queries)):
        html = client.get("/incidents/").content.decode()

    assert 'data-testid="gate-extra-5"' in html


def test_header_kill_button_not_shown_to_the_auditor_who_still_sees_the_gates(client_for, env):
    html = client_for("auditor").get("/incidents/").content.decode()

    assert 'data-testid="gate-paper"' in html
    assert "Confirm kill" not in html
