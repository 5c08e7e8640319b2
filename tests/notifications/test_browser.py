"""In a real Chromium: operator1 opens a SEV1; operator2 sees the notification count
rise, opens the notification and lands on the incident; the email arrives at the
test SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incidents.models import Incident

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots-notify")


def test_sev1_reaches_operator2_in_the_header_and_by_email(new_page, login, users, smtp_server):
    SHOTS.mkdir(exist_ok=True)
    watcher = new_page()
    login(watcher, "operator2")
    assert watcher.locator("#notifications-unread").inner_text() == "0"

    opener = new_page()
    login(opener, "operator1")
    opener.get_by_role("link", name="Open an incident").first.click()
    opener.get_by_label("Title").fill("Order router rejects every order")
    opener.get_by_label("Severity", exact=True).select_option("SEV1")
    opener.get_by_role("button", name="Open incident").click()
    opener.wait_for_url(re.compile(r"/incidents/\d+/$"))
    incident = Incident.objects.get()

    watcher.reload()
    assert watcher.locator("#notifications-unread").inner_text() == "1"
    watcher.screenshot(path=str(SHOTS / "header-1280.png"))
    watcher.get_by_role("link", name=re.compile(r"^Notifications")).click()
    watcher.screenshot(path=str(SHOTS / "list-1280.png"), full_page=True)
    watcher.get_by_role("button", name=re.compile(incident.reference)).click()
    watcher.wait_for_url(re.compile(rf"/incidents/{incident.pk}/$"))
    assert watcher.locator("#notifications-unread").inner_text() == "0"

    smtp_server.wait_for(1)
    to = {rcpt for envelope in smtp_server.messages for rcpt in envelope.rcpt_tos}
    assert "operator2@example.test" in to
    assert "operator1@example.test" not in to  # the opener is not told about their own
    text = next(
        e.content.decode() for e in smtp_server.messages if "operator2@example.test" in e.rcpt_tos
    )
    assert f"[SEV1] {incident.reference} opened" in text.replace("\r\n ", " ")

    phone = new_page(viewport={"width": 375, "height": 800})
    login(phone, "commander")
    phone.goto("/notifications/")
    phone.screenshot(path=str(SHOTS / "list-375.png"), full_page=True)
