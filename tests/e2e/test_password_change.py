"""The "Change password" page in a real browser, at laptop and phone widths."""

from __future__ import annotations

import pytest

from opsportal.accounts.models import User
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW = "Vq8!a-much-longer-new-phrase"


@pytest.mark.parametrize("width", [1280, 375])
def test_change_password_from_the_header(new_page, login, users, password, width):
    page = new_page(viewport={"width": width, "height": 800})
    login(page, "operator1")

    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password confirmation").fill(NEW)
    page.screenshot(path=str(ARTIFACTS / f"password-change-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.get_by_role("button", name="Change password").click()

    page.wait_for_url("**/")
    assert page.get_by_text("Your password was changed.").is_visible()
    assert overflow is False
    assert User.objects.get(username="operator1").check_password(NEW)
