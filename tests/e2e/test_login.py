import pytest

pytestmark = pytest.mark.e2e


def test_sign_in_lands_on_dashboard_and_sign_out_returns_to_login(new_page, login, users):
    page = new_page()

    login(page, "operator1")

    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_wrong_password_shows_an_error_and_keeps_the_username(new_page, users):
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("operator1")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Username").input_value() == "operator1"
