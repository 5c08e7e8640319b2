"""An admin issues a gate token in a real browser, at laptop and phone widths: the
secret is readable on screen once, and gone after a reload."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.controls.factories import EnvironmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 375])
def test_admin_issues_a_gate_token_and_sees_it_once(new_page, login, users, width):
    EnvironmentFactory(slug="paper")
    page = new_page(viewport={"width": width, "height": 800})
    login(page, "admin")
    page.goto("/environments/")

    page.get_by_role("link", name="Gate tokens of the trading engines").click()
    page.get_by_label("Name").fill("engine-paper-1")
    page.get_by_label("Environment").select_option("paper")
    page.get_by_role("button", name="Issue token").click()
    secret = page.locator("#issued-token").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"gate-tokens-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.goto("/environments/gate-tokens/")

    assert secret.startswith("opsg_")
    assert overflow is False
    assert secret not in page.content()
