"""The checklists the portal points to are where the work happens (issue 14, item
12): after a rollback its 8-step checklist is on the environment page and on the
incident the rollback is linked to, tickable by the people who may roll back (checked
by the server); after going LIVE, the live-transition checklist likewise."""

import pytest

from incidents.services import incident_open
from opsportal.audit.models import AuditEvent
from opsportal.controls import services
from opsportal.library.models import ChecklistItem
from tests.controls.conftest import ROLLBACK_STEPS
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rolled_back(env, users, make_live):
    make_live(env)
    return services.mode_rollback(environment=env, actor=users["operator1"], reason="slippage")


def rollback_items():
    return ChecklistItem.objects.filter(
        checklist__procedure_version__procedure__slug="rollback-to-dry-run"
    ).order_by("position")


def test_environment_page_shows_the_rollback_checklist_to_tick(client_for, rolled_back):
    html = client_for("operator2").get("/environments/paper/").content.decode()

    assert "0 of 8 done" in html
    assert all(f"{n}. {title}" in html for n, title in enumerate(ROLLBACK_STEPS, start=1))
    assert html.count('aria-label="Tick step') == 8 + 2  # and the live transition's 2


def test_ticking_a_rollback_step_from_the_environment_page(client_for, rolled_back, users):
    item = rollback_items().first()

    response = client_for("operator2").post(
        f"/environments/paper/checklist-items/{item.pk}/tick/", {"note": "kill switch on"}
    )

    item.refresh_from_db()
    assert response.status_code == 302
    assert (item.done_by, item.note) == (users["operator2"], "kill switch on")
    assert AuditEvent.objects.filter(event_type="checklist.item_ticked").count() == 1


def test_auditor_cannot_tick_a_rollback_step(client_for, rolled_back):
    item = rollback_items().first()

    client_for("auditor").post(f"/environments/paper/checklist-items/{item.pk}/tick/", {})

    item.refresh_from_db()
    assert item.done_at is None


def test_risk_officer_who_may_not_roll_back_cannot_tick_it(client_for, rolled_back):
    item = rollback_items().first()

    client_for("risk").post(f"/environments/paper/checklist-items/{item.pk}/tick/", {})

    item.refresh_from_db()
    assert item.done_at is None


def test_an_item_cannot_be_ticked_through_another_environments_page(client_for, rolled_back):
    EnvironmentFactory(slug="valr-live")
    item = rollback_items().first()

    client_for("operator1").post(f"/environments/valr-live/checklist-items/{item.pk}/tick/", {})

    item.refresh_from_db()
    assert item.done_at is None


def test_rollback_checklist_is_on_the_linked_incidents_page_and_ticks_back_to_it(
    client_for, env, users, make_live
):
    make_live(env)
    incident = incident_open(
        actor=users["operator1"], title="Slippage", severity="SEV2", environment=env
    )
    services.mode_rollback(environment=env, actor=users["operator1"], reason="slippage")
    item = rollback_items().first()
    client = client_for("operator1")

    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    response = client.post(
        f"/environments/paper/checklist-items/{item.pk}/tick/",
        {"next": f"/incidents/{incident.pk}/"},
    )

    assert "Rollback and live-transition checklists" in html and "0 of 8 done" in html
    assert response.url.startswith(f"/incidents/{incident.pk}/")


def test_environment_page_shows_the_live_transition_checklist_after_going_live(
    client_for, env, make_live
):
    make_live(env)

    html = client_for("operator1").get("/environments/paper/").content.decode()

    assert "Live Transition" in html and "0 of 2 done" in html


def test_environment_page_shows_the_pre_live_checklist_while_in_dry_run(client_for, env, library):
    html = client_for("operator1").get("/environments/paper/").content.decode()

    assert "Attested item by item by the requester of the LIVE transition" in html
    assert "<strong>1. Database reachable</strong>" in html
