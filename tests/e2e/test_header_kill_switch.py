"""The header's kill button and gate strip in a real browser (issue 14, items 8 and 9):
from a `valr-live` incident page two clicks trip `valr-live`, not the first
environment of the list, the kill is linked to that incident, and the sticky header
shows HALT for `valr-live` on every page, on a laptop and on a phone scrolled to the
bottom."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from incidents.services import incident_open, timeline_entry_add
from opsportal.controls.models import Environment, KillSwitchEvent
from tests.controls.factories import EnvironmentFactory
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PAGES = ["/", "/incidents/", "/drills/", "/environments/", "/environments/paper/"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}


@pytest.fixture
def valr_incident(users):
    EnvironmentFactory(slug="paper", name="Paper trading")  # first in the list
    valr = EnvironmentFactory(slug="valr-live", name="VALR spot")
    incident = incident_open(
        actor=users["operator1"],
        title="Order router rejects every order",
        severity="SEV2",
        environment=valr,
    )
    for n in range(12):  # a page long enough to scroll on a laptop too
        timeline_entry_add(
            incident=incident, actor=users["operator1"], kind="note", body=f"Observation {n}"
        )
    return incident


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_header_kill_from_an_incident_trips_its_environment_and_links_the_kill(
    new_page, login, valr_incident
):
    page = new_page(viewport=LAPTOP)
    login(page, "operator1")
    page.goto(f"/incidents/{valr_incident.pk}/")

    page.locator("header summary", has_text="Kill switch").click()
    page.locator("header").get_by_role("button", name="Confirm kill").click()

    page.wait_for_url("**/environments/valr-live/")
    states = dict(Environment.objects.values_list("slug", "kill_switch"))
    assert states == {"paper": "ACTIVE", "valr-live": "KILLED"}
    assert KillSwitchEvent.objects.get().incident_id == valr_incident.pk
    assert Incident.objects.count() == 1  # linked, no new SEV1


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280px", "375px"])
def test_header_shows_halt_for_the_killed_environment_on_every_page_scrolled_down(
    new_page, login, valr_incident, viewport
):
    page = new_page(viewport=viewport)
    login(page, "operator1")
    page.goto(f"/incidents/{valr_incident.pk}/")
    page.locator("header summary", has_text="Kill switch").click()
    page.locator("header").get_by_role("button", name="Confirm kill").click()
    page.wait_for_url("**/environments/valr-live/")

    seen = {}
    scrolled = {}
    for path in [f"/incidents/{valr_incident.pk}/", *PAGES]:
        page.goto(path)
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_function(
            "window.scrollY > 0 || document.documentElement.scrollHeight <= innerHeight"
        )
        scrolled[path] = page.evaluate("window.scrollY") > 0
        gate = page.get_by_test_id("gate-valr-live")
        kill = page.locator("header summary", has_text="Kill switch")
        seen[path] = (
            gate.inner_text().split()[-1],
            page.get_by_test_id("gate-paper").inner_text().split()[-1],
            in_viewport(page, gate),
            in_viewport(page, kill),
        )
        name = path.strip("/").replace("/", "-") or "dashboard"
        page.screenshot(path=str(ARTIFACTS / f"header-{viewport['width']}-{name}.png"))

    assert seen == {path: ("HALT", "ALLOW", True, True) for path in seen}
    assert scrolled[f"/incidents/{valr_incident.pk}/"]  # the check is not vacuous
