"""Long unbroken text wraps on the incident page (issue 14 item 11): a 5,000-character
word in the title, summary, a note and a command never makes the page wider than the
screen, on a laptop or a phone."""

import pytest

from incidents import services
from tests.e2e.conftest import ARTIFACTS

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
