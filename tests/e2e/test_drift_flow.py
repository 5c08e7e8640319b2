"""Drift in a real browser, at laptop and phone widths: an operator sees a breached
source, the NEUTRAL gate in the header, presses "Check now" after the clock is fixed,
and reads the source's checks."""

from __future__ import annotations

import pytest

from opsportal.drift.services import time_source_check_now
from tests.conftest import ARTIFACTS
from tests.controls.factories import EnvironmentFactory
from tests.drift.factories import http_source
from tests.drift.servers import TimeHTTPServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def time_server():
    with TimeHTTPServer() as server:
        yield server


@pytest.mark.parametrize("width", [1280, 375])
def test_operator_sees_neutral_and_checks_now(new_page, login, users, time_server, width):
    env = EnvironmentFactory(slug="paper")
    source = http_source(time_server.url, env)
    time_server.skew_ms = 1300
    time_source_check_now(source=source, actor=None)
    page = new_page(viewport={"width": width, "height": 900})
    login(page, "operator1")

    page.goto("/drift/")
    header_gate = page.get_by_test_id("gate-paper").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"drift-overview-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.get_by_role("link", name=source.name).first.click()
    time_server.skew_ms = 0
    page.get_by_role("button", name="Check now").click()
    message = page.locator(".messages").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"drift-source-{width}.png"), full_page=True)

    assert "NEUTRAL" in header_gate
    assert overflow is False
    assert "healthy" in message
    assert page.locator("tbody tr").count() == 2
