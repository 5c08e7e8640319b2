"""The incident list and API at scale (issue 14, item 20): a whole reference is an
exact match, text search is served by trigram indexes on PostgreSQL, and pages are
keyset pages (no OFFSET, no duplicates or gaps, stable under ties) — on PostgreSQL,
and on the embedded SQLite default (a real SQLite database, migrated in a subprocess).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from incidents.selectors import incident_cursor
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def seventy(*, distinct: bool) -> list[str]:
    now = timezone.now()
    Incident.objects.bulk_create(
        IncidentFactory.build(
            reference=f"INC-20260101-{n:03d}",
            title=f"Broker disconnect {n}" if n % 2 else f"Kafka lag {n}",
            summary="",
            detected_at=now - timedelta(minutes=n if distinct else n // 3),
        )
        for n in range(70)
    )
    return list(
        Incident.objects.order_by("-detected_at", "-id").values_list("reference", flat=True)
    )


@pytest.fixture
def seventy_with_ties(db):
    """70 incidents; groups of three share a detected_at, so pages must order by id too."""
    return seventy(distinct=False)


@pytest.fixture
def seventy_distinct(db):
    """70 incidents, each detected at its own time."""
    return seventy(distinct=True)


def walk_list(client, query: str, direction: str, start: str) -> list[list[str]]:
    """The references of each page, following `direction` ("older"/"newer") links."""
    pages = []
    url = reverse("incidents:list") + start
    while url:
        page = client.get(url).context["page"]
        pages.append([i.reference for i in page.incidents])
        cursor = getattr(page, direction)
        param = "after" if direction == "older" else "before"
        url = f"{reverse('incidents:list')}?{query}{param}={cursor}" if cursor else None
    return pages


def test_search_by_whole_reference_finds_only_that_incident(client_for):
    IncidentFactory(reference="INC-20260101-001", title="Broker down")
    IncidentFactory(reference="INC-20260101-0010", title="Kafka lag")
    IncidentFactory(reference="INC-20260102-002", title="Follow-up of INC-20260101-001")

    response = client_for("auditor").get(reverse("incidents:list") + "?q=+inc-20260101-001+")

    assert [i.reference for i in response.context["incidents"]] == ["INC-20260101-001"]


def test_api_search_by_whole_reference_finds_only_that_incident(client_for):
    IncidentFactory(reference="INC-20260101-001", title="Broker down")
    IncidentFactory(reference="INC-20260101-0010", title="Kafka lag")

    body = client_for("auditor").get("/api/v1/incidents/?q=INC-20260101-001").json()

    assert [r["reference"] for r in body["results"]] == ["INC-20260101-001"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("BROKER", {"INC-1", "INC-3"}),
        ("kafka", {"INC-2"}),
        ("gateway", {"INC-3"}),
        ("INC-2", {"INC-2"}),
        ("nothing-like-it", set()),
    ],
)
def test_text_search_is_a_case_insensitive_substring_of_any_column(client_for, query, expected):
    IncidentFactory(reference="INC-1", title="Broker down", summary="x", affected_systems="")
    IncidentFactory(reference="INC-2", title="Lag", summary="Kafka consumer", affected_systems="")
    IncidentFactory(
        reference="INC-3", title="Orders", summary="", affected_systems="broker gateway"
    )

    response = client_for("auditor").get(reverse("incidents:list"), {"q": query})

    assert {i.reference for i in response.context["incidents"]} == expected


@pytest.mark.parametrize("column", ["reference", "title", "summary", "affected_systems"])
def test_postgresql_text_search_reads_the_trigram_index(column):
    IncidentFactory.create_batch(3)
    queryset = Incident.objects.filter(**{f"{column}__icontains": "broker"}).order_by()

    with connection.cursor() as cursor:
        # With sequential scans priced out, a plan names the index only if it can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()

    assert f"incident_{column}_trgm" in plan


def test_list_keyset_pages_cover_every_incident_once_in_order(client_for, seventy_with_ties):
    client = client_for("auditor")

    older = walk_list(client, "", "older", "")
    newer = walk_list(client, "", "newer", f"?after={_cursor_before_last_page(older)}")

    assert [len(p) for p in older] == [25, 25, 20]
    assert sum(older, []) == seventy_with_ties
    assert sum(newer[::-1], []) == sum(older, [])


def _cursor_before_last_page(pages: list[list[str]]) -> str:
    return incident_cursor(Incident.objects.get(reference=pages[-2][-1]))


def test_list_keyset_pages_keep_the_search(client_for, seventy_with_ties):
    pages = walk_list(client_for("auditor"), "q=broker&", "older", "?q=broker")

    expected = [r for r in seventy_with_ties if int(r[-3:]) % 2]
    assert (sum(pages, []), [len(p) for p in pages]) == (expected, [25, 10])


def test_list_counts_matches_up_to_a_bound_and_says_more_than(client_for, monkeypatch):
    monkeypatch.setattr("incidents.selectors.LIST_COUNT_LIMIT", 5)
    Incident.objects.bulk_create(
        IncidentFactory.build(reference=f"INC-20260101-{n:03d}") for n in range(8)
    )

    html = client_for("auditor").get(reverse("incidents:list")).content.decode()

    assert "8 shown of more than 5 incidents" in html


def test_list_ignores_a_malformed_cursor(client_for, seventy_with_ties):
    response = client_for("auditor").get(
        reverse("incidents:list") + "?after=99999999999999999999_x"
    )

    assert (response.status_code, len(response.context["incidents"])) == (200, 25)


def test_deep_list_and_api_pages_use_no_offset(client_for, seventy_distinct):
    # (DRF's API cursor skips rows that share the page boundary's detected_at with a
    # small OFFSET, at most the size of that tie: hence distinct times here.)
    client = client_for("auditor")
    older = walk_list(client, "", "older", "")
    deep = f"?after={_cursor_before_last_page(older)}"
    second = client.get("/api/v1/incidents/").json()["next"]

    with CaptureQueriesContext(connection) as queries:
        listed = client.get(reverse("incidents:list") + deep)
        api = client.get(second)

    assert [i.reference for i in listed.context["incidents"]] == older[-1]
    assert [r["reference"] for r in api.json()["results"]] == seventy_distinct[50:]
    assert [q["sql"] for q in queries.captured_queries if " OFFSET " in q["sql"]] == []


def test_api_cursor_pages_cover_every_incident_once_in_order(client_for, seventy_with_ties):
    client = client_for("auditor")
    seen, url = [], "/api/v1/incidents/"
    while url:
        body = client.get(url).json()
        seen += [r["reference"] for r in body["results"]]
        url = body["next"]

    assert seen == seventy_with_ties


@pytest.mark.parametrize(
    "query", ["", "?q=broker", "?q=INC-20260101-007", "?severity=SEV2&state=open"]
)
def test_api_list_query_count_is_fixed(
    client_for, seventy_with_ties, django_assert_max_num_queries, query
):
    client = client_for("auditor")

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/incidents/" + query)

    assert response.status_code == 200


SQLITE_SCRIPT = """
import json
from datetime import timedelta

from django.utils import timezone

from incidents.filters import IncidentFilter
from incidents.models import Incident
from incidents.selectors import incident_page

from tests.incidents.factories import IncidentFactory

now = timezone.now()
Incident.objects.bulk_create(
    IncidentFactory.build(
        reference=f"INC-20260101-{n:03d}", title=("Broker down" if n % 2 else "Kafka lag"),
        summary="", detected_at=now - timedelta(minutes=n // 3),
    )
    for n in range(70)
)
IncidentFactory(reference="INC-20260101-0010", title="x", summary="")
def search(q):
    found = IncidentFilter({"q": q}, queryset=Incident.objects.all()).qs
    return sorted(found.values_list("reference", flat=True))
pages, after = [], None
while True:
    page = incident_page(Incident.objects.all(), after=after, size=25)
    pages.append([i.reference for i in page.incidents])
    after = page.older
    if after is None:
        break
print(json.dumps({
    "reference": search("inc-20260101-001"),
    "broker": len(search("BROKER")),
    "kafka": len(search("kafka")),
    "pages": pages,
    "ordered": list(
        Incident.objects.order_by("-detected_at", "-id").values_list("reference", flat=True)
    ),
}))
"""


def test_search_and_keyset_pages_work_on_the_embedded_sqlite_default(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    shell = subprocess.run(
        [*manage, "shell", "-c", SQLITE_SCRIPT],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )

    found = json.loads(shell.stdout.splitlines()[-1])
    assert (found["reference"], found["broker"], found["kafka"]) == (["INC-20260101-001"], 35, 35)
    assert [len(p) for p in found["pages"]] == [25, 25, 21]
    assert sum(found["pages"], []) == found["ordered"]
