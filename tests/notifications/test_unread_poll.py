"""The header's unread count refreshes without a reload: a JSON endpoint and a
static script (no inline script, CSP) that asks it every NOTIFICATIONS_POLL_SECONDS."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction
from playwright.sync_api import expect

from opsportal.notifications.services import notify
from tests.notifications.factories import TEST_KIND

SHOTS = Path("/tmp/shots-wire")


def tell(user, title: str = "Something happened") -> None:
    with transaction.atomic():
        notify(kind=TEST_KIND, recipients=[user], title=title)


@pytest.mark.django_db
def test_the_endpoint_gives_the_signed_in_users_unread_count(users, client_for):
    tell(users["operator2"])
    tell(users["operator2"], "Another")
    tell(users["operator1"])
    response = client_for("operator2").get("/notifications/unread.json")
    assert response.status_code == 200
    assert response.json() == {"unread": 2}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_the_header_loads_the_poll_script_from_a_static_file(users, client_for):
    page = client_for("operator1").get("/notifications/").content.decode()
    assert 'data-poll-url="/notifications/unread.json"' in page
    assert 'data-poll-ms="30000"' in page
    assert "js/notifications_poll.js" in page


@pytest.mark.e2e
def test_the_count_rises_without_a_reload(new_page, login, users, settings):
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    SHOTS.mkdir(exist_ok=True)
    page = new_page()
    login(page, "operator2")
    badge = page.locator("#notifications-unread")
    assert badge.inner_text() == "0"
    page.evaluate("window.__noReload = true")  # gone if the page reloads

    tell(users["operator2"], "Kill switch triggered on paper")
    expect(badge).to_have_text("1", timeout=15_000)
    assert page.evaluate("window.__noReload") is True
    assert badge.get_attribute("aria-label") == "1 unread"
    page.screenshot(path=str(SHOTS / "header-poll-1280.png"))
