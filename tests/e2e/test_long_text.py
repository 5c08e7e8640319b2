"""The incident page in a browser: a 5,000-character unbroken word in the title,
summary, a note and a command never makes the page wider than the screen, on a laptop
or a phone (issue 14 item 11); an action returns to where it was made (item 14)."""

import pytest

from incidents import services
from tests.e2e.conftest import ARTIFACTS
from tests.incidents.factories import publish_playbook

pytestmark = pytest.mark.e2e

WORD = "x" * 5000


@pytest.mark.parametrize("width", [1280, 375])
def test_a_5000_character_word_wraps_on_the_incident_page(new_page, login, users, width):
    incident = services.incident_open(
        actor=users["operator1"], title="Broker " + "y" * 190, severity="SEV2", summary=WORD
    )
    for kind in ("note", "command"):
        services.timeline_entry_add(
            incident=incident, actor=users["operator1"], kind=kind, body=WORD
        )
    page = new_page(viewport={"width": width, "height": 900})
    login(page, "operator1")

    page.goto(f"/incidents/{incident.pk}/")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"incident-long-word-{width}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"incident-long-word-{width}-top.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_ticking_a_step_returns_to_the_step_and_puts_it_on_the_timeline(new_page, login, users):
    playbook = publish_playbook()
    incident = services.incident_open(
        actor=users["operator1"],
        title="Broker down",
        severity="SEV2",
        playbook_slug=playbook.procedure.slug,
    )
    item = services.incident_checklists(incident).get().items.get(position=3)
    page = new_page(viewport={"width": 375, "height": 700})
    login(page, "operator1")
    page.goto(f"/incidents/{incident.pk}/")

    page.get_by_role("button", name="Tick step 3: Step 3").click()

    page.wait_for_url(f"**/incidents/{incident.pk}/#item-{item.pk}")
    assert page.evaluate("window.scrollY") > 0
    assert page.locator("#timeline").get_by_text("Checklist step 3 done").is_visible()
