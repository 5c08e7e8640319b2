"""Schemathesis against the portal's OpenAPI schema (issue 14, item 3).

Every operation in the schema `/api/schema/` serves is called through the portal's
own WSGI application with requests schemathesis generates from it (its examples,
coverage and fuzzing phases): any 5xx, any status code or body the schema does not
document, any schema-valid request the server refuses and any schema-invalid request
it accepts fails the test. People endpoints are called with a signed-in session
(cookie and CSRF token) of a user who holds every working role, so generated requests
reach the services rather than stopping at 403; the gate with a gate token.

The data is the demo a newcomer gets from `make run` (load_procedures + seed_demo).
Bounded and deterministic: a fixed seed, `derandomize`, no example database and a
few examples per operation (about a minute for the whole module).

The schema is built at import (pytest collects one test per operation from it, and
the database is not open yet); `test_the_tested_schema_is_the_served_one` checks
that it is exactly what `/api/schema/` answers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from opsportal.controls.services import gate_token_issue
from tests.factories import UserFactory

# CI runs one fixed seed; OPSPORTAL_SCHEMATHESIS_SEED / _EXAMPLES explore others by hand
# (docs/DEVELOPING.md "Schemathesis").
SEED = int(os.environ.get("OPSPORTAL_SCHEMATHESIS_SEED", "20261203"))
EXAMPLES = int(os.environ.get("OPSPORTAL_SCHEMATHESIS_EXAMPLES", "8"))
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
            # NUL is refused at the edge of every input (issue 14 item 2, with its own
            # fuzz test); a JSON Schema cannot say "no NUL" short of a pattern on
            # every string, so it is left out of the generated strings here.
            "allow-x00": False,
        },
    }
)
# The view's own generator, rendered as the view renders it (lazy strings, Decimals).
SERVED = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
APP = WSGIHandler()
# The gate stream never ends (it is an event stream): its answers are held to the
# schema by tests/controls/test_gate_stream*.py and test_gate_push*.py instead.
schema = schemathesis.openapi.from_dict(SERVED, config=CONFIG).exclude(operation_id="gate_stream")
schema.app = APP
CREDENTIALS: dict[str, str] = {}
CSRF = "schemathesis0csrf0secret00000000"  # any 32 letters and digits are a CSRF secret


@schema.auth(refresh_interval=None)
class PortalAuth:
    """Schemathesis' auth provider (so its checks know which credentials are ours and
    can probe without them): a session for people, the gate token for the gate."""

    def get(self, case: Any, context: Any) -> dict[str, str]:
        # Empty while pytest collects (schemathesis builds its examples then).
        return {"session": "", "csrf": CSRF, "gate": "", **CREDENTIALS}

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        if case.operation.path.endswith("/gate"):
            case.headers = {**(case.headers or {}), "Authorization": data["gate"]}
            return
        case.headers = {**(case.headers or {}), "X-CSRFToken": data["csrf"]}
        case.cookies = {
            **(case.cookies or {}),
            "sessionid": data["session"],
            "csrftoken": data["csrf"],
        }


@pytest.fixture(scope="module")
def demo_portal(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    """The demo data and our credentials, set up once for the module in a transaction
    rolled back at its end (as Django's TestCase.setUpTestData does; each test's own
    changes roll back to it). While it lasts, requests do not close "old" database
    connections, as under Django's test client: that would close the connection that
    holds the transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        # Marked as Django's TestCase marks its own blocks, so the services' durable
        # transactions nest in it as they do in any test.
        outer._from_testcase = True
        outer.__enter__()
        try:
            call_command("load_procedures", verbosity=0)
            call_command("seed_demo", "--force", verbosity=0)
            user = UserFactory(
                username="schemathesis", roles=["operator", "incident_commander", "risk_officer"]
            )
            client = Client()
            client.force_login(user)
            _, gate = gate_token_issue(name="schemathesis", environment=None, actor=None)
            CREDENTIALS.update(session=client.cookies["sessionid"].value, gate=f"Bearer {gate}")
            yield CREDENTIALS
        finally:
            CREDENTIALS.clear()
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(demo_portal: dict[str, str], db: None) -> dict[str, str]:
    return demo_portal


def test_the_tested_schema_is_the_served_one(client_for: Any) -> None:
    response = client_for("auditor").get("/api/schema/", {"format": "json"})

    assert response.json() == SERVED


@schema.parametrize()
# The fixtures set the data up once per operation; its examples share it on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case: Any, credentials: dict[str, str]) -> None:
    case.call_and_validate()
