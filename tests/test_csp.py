"""Content-Security-Policy on every page, and API docs served from our own static
files (issue 14, item 7). The browser check that pages still work under the policy
is tests/e2e/test_csp_browser.py."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from drills.models import DrillRun
from incidents.models import Incident
from opsportal.accounts.models import User

PAGES = [
    ("commander", "/"),
    ("commander", "/incidents/"),
    ("commander", "/incidents/new/"),
    ("commander", "incident"),
    ("commander", "/environments/"),
    ("commander", "/environments/valr-live/"),
    ("commander", "/drills/"),
    ("commander", "/drills/runs/plan/"),
    ("commander", "drill run"),
    ("commander", "drill record"),
    ("risk", "/approvals/"),
    ("commander", "/library/"),
    ("admin", "/admin/"),
    ("admin", "/admin/accounts/user/"),
    ("auditor", "/api/docs/"),
    (None, "/accounts/login/"),
]


@pytest.fixture
def demo(db, settings):
    settings.OPSPORTAL_DEMO_PASSWORD = "demo-password-for-tests"
    call_command("load_procedures", verbosity=0)
    call_command("seed_demo", "--force", verbosity=0)


def url_of(page: str) -> str:
    run = DrillRun.objects.order_by("pk").first()
    named = {
        "incident": f"/incidents/{Incident.objects.order_by('pk').first().pk}/",
        "drill run": f"/drills/runs/{run.pk}/",
        "drill record": f"/drills/runs/{run.pk}/record",
    }
    return named.get(page, page)


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize(("username", "page"), PAGES)
def test_every_page_is_served_under_a_csp_it_keeps(demo, client, username, page):
    """The policy allows scripts and style sheets from this origin only, and the page
    needs nothing else: no inline <script>, no <style> element, no on* handler."""
    if username:
        client.force_login(User.objects.get(username=username))
    response = client.get(url_of(page))

    policy = directives(response["Content-Security-Policy"])
    html = response.content.decode()
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    handlers = re.findall(r"<[^>]+\son[a-z]+=", html)
    assert response.status_code == 200
    assert (policy["default-src"], policy["script-src"], policy["style-src"]) == (
        ["'self'"],
        ["'self'"],
        ["'self'"],
    )
    assert (inline_scripts, "<style" in html, handlers) == ([], False, [])


def test_api_docs_reference_no_external_host(client_for):
    client = client_for("auditor")
    page = client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', page).group(1)
    script = client.get(script_url.replace("&amp;", "&")).content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert [a for a in assets if not a.startswith("/")] == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert re.findall(r"https?://|cdn", script) == []
