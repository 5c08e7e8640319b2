import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident, RoleAssignment, StatusUpdate, TimelineEntry
from opsportal.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory, publish_playbook

pytestmark = pytest.mark.django_db

ROLES = ["operator1", "operator2", "commander", "risk", "auditor", "admin"]
OPERATORS = {"operator1", "operator2", "commander"}
COMMANDER = {"commander"}


def walk(incident, actor, *verbs):
    for verb in verbs:
        services.incident_transition(verb=verb, actor=actor, incident=incident)


def _sev3(users, playbook, *verbs):
    incident = services.incident_open(
        actor=users["operator1"],
        title="Latency up",
        severity="SEV3",
        playbook_slug=playbook.procedure.slug,
    )
    walk(incident, users["commander"], *verbs)
    return incident


def _item(incident):
    return services.incident_checklists(incident).get().items.first().pk


def _assignment(users, incident):
    return services.incident_role_assign(
        actor=users["commander"], incident=incident, role="scribe", user=users["operator2"]
    ).pk


def _role_data(users):
    return {"role": "technical_lead", "user": users["operator2"].pk}


def _playbook_data(users):
    other = publish_playbook(slug="second-playbook", title="Second")
    return {"procedure": other.procedure.slug}


def _current(field):
    """The incident's `field`, read back from the database."""
    return lambda incident: getattr(Incident.objects.get(pk=incident.pk), field)


def _active_role_holders(role):
    return lambda incident: list(
        RoleAssignment.objects.filter(incident=incident, role=role, ended_at=None).values_list(
            "user__username", flat=True
        )
    )


def _status_update_kinds(incident):
    return list(StatusUpdate.objects.filter(incident=incident).values_list("kind", flat=True))


def _timeline_bodies(kind):
    return lambda incident: list(
        TimelineEntry.objects.filter(incident=incident, kind=kind).values_list("body", flat=True)
    )


def _playbooks(incident):
    checklists = services.incident_checklists(incident)
    return sorted(checklists.values_list("procedure_version__procedure__slug", flat=True))


def _ticked_items(incident):
    items = services.incident_checklists(incident).get().items.exclude(done_at=None)
    return list(items.values_list("position", "note"))


@dataclass(frozen=True)
class WritePath:
    name: str
    url: Callable  # (incident, users) -> [url name, *args]
    allowed: set
    seen: Callable  # (incident) -> what the write changes, as the incident page shows it
    after: object  # `seen` once an allowed user's write went through
    verbs: tuple = ()  # transitions that bring the incident to the starting state
    data: Callable = lambda users: {}  # noqa: E731 - a default that builds POST data


def _transition(verb, verbs, allowed, target, note=""):
    return WritePath(
        verb,
        lambda i, u: ["transition", i.pk, verb],
        allowed,
        _current("status"),
        target,
        verbs,
        lambda users: {"note": note},
    )


RESOLVED = ("acknowledge", "investigate", "resolve")
WRITE_PATHS = [
    _transition("acknowledge", (), OPERATORS, "acknowledged"),
    _transition("investigate", ("acknowledge",), COMMANDER, "investigating"),
    _transition("mitigate", ("acknowledge",), COMMANDER, "mitigating"),
    _transition("monitor", ("acknowledge", "mitigate"), COMMANDER, "monitoring"),
    _transition("resolve", ("acknowledge", "investigate"), COMMANDER, "resolved"),
    _transition("close", RESOLVED, COMMANDER, "closed", note="done"),
    _transition("decline", (), COMMANDER, "declined", note="false alarm"),
    _transition("reopen", RESOLVED, COMMANDER, "investigating", note="again"),
    WritePath(
        "severity",
        lambda i, u: ["severity", i.pk],
        COMMANDER,
        _current("severity"),
        "SEV1",
        data=lambda users: {"severity": "SEV1", "reason": "worse"},
    ),
    WritePath(
        "impact",
        lambda i, u: ["impact", i.pk],
        OPERATORS,
        _current("pnl_impact"),
        Decimal("-10.50"),
        data=lambda users: {"impact-pnl_impact": "-10.50", "impact-pnl_currency": "USD"},
    ),
    WritePath(
        "role_assign",
        lambda i, u: ["role_assign", i.pk],
        COMMANDER,
        _active_role_holders("technical_lead"),
        ["operator2"],
        data=_role_data,
    ),
    WritePath(
        "role_end",
        lambda i, u: ["role_end", i.pk, _assignment(u, i)],
        COMMANDER,
        _active_role_holders("scribe"),
        [],
    ),
    WritePath(
        "status_update",
        lambda i, u: ["status_update", i.pk],
        OPERATORS,
        _status_update_kinds,
        ["initial"],
        data=lambda users: {"kind": "initial", "impact": "Slow fills"},
    ),
    WritePath(
        "note_add",
        lambda i, u: ["note_add", i.pk],
        OPERATORS | {"risk"},
        _timeline_bodies("note"),
        ["Looking at it"],
        data=lambda users: {"kind": "note", "body": "Looking at it"},
    ),
    WritePath(
        "record_add",
        lambda i, u: ["record_add", i.pk],
        OPERATORS,
        _timeline_bodies("command"),
        ["uptime"],
        data=lambda users: {"kind": "command", "body": "uptime"},
    ),
    WritePath(
        "playbook_attach",
        lambda i, u: ["playbook_attach", i.pk],
        OPERATORS,
        _playbooks,
        ["second-playbook", "test-broker-disconnect"],
        data=_playbook_data,
    ),
    WritePath(
        "checklist_tick",
        lambda i, u: ["checklist_tick", i.pk, _item(i)],
        OPERATORS,
        _ticked_items,
        [(1, "ok")],
        data=lambda users: {"note": "ok"},
    ),
]
ALLOWED = [
    pytest.param(path, username, id=f"{path.name}-{username}")
    for path in WRITE_PATHS
    for username in ROLES
    if username in path.allowed
]
REFUSED = [
    pytest.param(path, username, id=f"{path.name}-{username}")
    for path in WRITE_PATHS
    for username in ROLES
    if username not in path.allowed
]


@pytest.mark.parametrize(("path", "username"), ALLOWED)
def test_write_path_changes_the_incident_for_allowed_roles(
    client_for, users, playbook, path, username
):
    incident = _sev3(users, playbook, *path.verbs)
    url_name, *args = path.url(incident, users)
    data = path.data(users)
    assert path.seen(incident) != path.after  # else this test could not fail

    client = client_for(username)

    response = client.post(reverse(f"incidents:{url_name}", args=args), data)

    assert response.status_code == 302, response.content[:2000]
    assert path.seen(incident) == path.after
    # Back where the user was: the section (or the row) they acted on, as drills do.
    url, anchor = response["Location"].split("#")
    assert url == reverse("incidents:detail", args=[incident.pk])
    assert f'id="{anchor}"' in client.get(url).content.decode()


@pytest.mark.parametrize(("path", "username"), REFUSED)
def test_write_path_is_403_and_audited_for_other_roles(client_for, users, playbook, path, username):
    incident = _sev3(users, playbook, *path.verbs)
    url_name, *args = path.url(incident, users)
    data = path.data(users)
    before = path.seen(incident)
    entries_before = TimelineEntry.objects.filter(incident=incident).count()

    response = client_for(username).post(reverse(f"incidents:{url_name}", args=args), data)

    assert response.status_code == 403
    denied = AuditEvent.objects.filter(event_type="access.denied", actor=users[username])
    assert denied.count() == 1
    assert path.seen(incident) == before
    assert TimelineEntry.objects.filter(incident=incident).count() == entries_before


CREATE = {"title": "Order rejects", "severity": "SEV2", "pnl_currency": "USD"}


@pytest.mark.parametrize("username", sorted(OPERATORS))
def test_create_opens_an_incident_for_operators_and_commanders(client_for, username):
    response = client_for(username).post(reverse("incidents:create"), CREATE)

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[incident.pk])
    assert (incident.title, incident.created_by.username) == ("Order rejects", username)


@pytest.mark.parametrize("username", sorted(set(ROLES) - OPERATORS))
def test_create_is_403_for_other_roles(client_for, username):
    response = client_for(username).post(reverse("incidents:create"), CREATE)

    assert response.status_code == 403
    assert not Incident.objects.exists()


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("page", ["dashboard", "incidents:list", "incidents:detail"])
def test_every_role_sees_an_open_incident_on_dashboard_list_and_detail(client_for, username, page):
    incident = IncidentFactory(title="Kafka lag")
    args = [incident.pk] if page == "incidents:detail" else []

    response = client_for(username).get(reverse(page, args=args))

    assert response.status_code == 200
    assert "Kafka lag" in response.content.decode()


def test_a_user_without_a_role_reads_nothing(client):
    incident = IncidentFactory()
    client.force_login(UserFactory(roles=[]))

    assert client.get(reverse("incidents:list")).status_code == 403
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 403


def test_unknown_incident_and_unknown_verb_are_404(client_for, users):
    incident = IncidentFactory()
    client = client_for("commander")

    assert client.get(reverse("incidents:detail", args=[incident.pk + 99])).status_code == 404
    response = client.post(reverse("incidents:transition", args=[incident.pk, "explode"]))
    assert response.status_code == 404


def _main(response):
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_auditor_sees_no_forms_or_buttons_on_the_detail_page(client_for, users, playbook):
    """Nothing that changes the incident: the one form an auditor gets asks for a
    report about it (reports are evidence, issue 12: auditors request and read them)."""
    incident = _sev3(users, playbook, "acknowledge")

    main = _main(client_for("auditor").get(reverse("incidents:detail", args=[incident.pk])))

    assert re.findall(r'<form[^>]*action="([^"]*)"', main) == [reverse("reports:request")]
    assert main.count("<button") == 1


def test_detail_offers_only_the_transitions_the_user_may_make(client_for, users, playbook):
    incident = _sev3(users, playbook, "acknowledge")
    url = reverse("incidents:detail", args=[incident.pk])

    operator = _main(client_for("operator1").get(url))
    commander = _main(client_for("commander").get(url))

    assert "/transition/" not in operator
    assert re.findall(r"/transition/(\w+)/", commander) == ["investigate", "mitigate", "decline"]


def test_detail_hides_close_for_sev2_and_says_why(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")
    walk(incident, users["commander"], "acknowledge", "investigate", "resolve")

    main = _main(client_for("commander").get(reverse("incidents:detail", args=[incident.pk])))

    assert "/transition/close/" not in main
    assert "/transition/reopen/" in main
    assert "can close only after its post-incident review is approved" in main


def test_create_form_triage_step_suggests_a_severity(client_for):
    data = {"service_down": "on", "title": "", "triage": "1"}

    response = client_for("operator1").post(reverse("incidents:create"), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Suggested: <strong>SEV2</strong>" in html
    assert re.search(r'<option value="SEV2"[^>]*selected', html)
    assert not Incident.objects.exists()


def test_create_form_shows_errors_and_keeps_input(client_for):
    response = client_for("operator1").post(
        reverse("incidents:create"), {"title": "", "severity": "SEV9", "summary": "kept text"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "kept text" in html


def test_create_with_playbook_shows_checklist(client_for, playbook):
    data = {
        "title": "Broker down",
        "severity": "SEV2",
        "pnl_currency": "USD",
        "playbook": playbook.procedure.slug,
    }
    response = client_for("operator1").post(reverse("incidents:create"), data, follow=True)

    html = response.content.decode()
    assert "Test playbook" in html
    assert "Tick step 1: Step 1" in html


def test_status_update_missing_field_rerenders_with_the_error(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")

    response = client_for("operator1").post(
        reverse("incidents:status_update", args=[incident.pk]), {"kind": "update", "progress": "a"}
    )

    assert response.status_code == 400
    assert "What happens next is required for this template." in response.content.decode()


def test_evidence_with_a_bad_link_rerenders_with_the_error(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")

    response = client_for("operator1").post(
        reverse("incidents:record_add", args=[incident.pk]),
        {"kind": "evidence", "body": "graph", "url": "ftp://x"},
    )

    assert response.status_code == 400
    assert "Evidence needs a link" in response.content.decode()


def test_illegal_transition_is_a_message_not_an_error(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")

    response = client_for("commander").post(
        reverse("incidents:transition", args=[incident.pk, "resolve"]), follow=True
    )

    assert response.status_code == 200
    assert (
        f"{incident.reference} is detected and cannot go straight to resolved. "
        "Next step: Acknowledge or Decline (false positive)."
    ) in unescape(response.content.decode())


def test_a_transition_says_what_happened_in_words(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")

    response = client_for("operator1").post(
        reverse("incidents:transition", args=[incident.pk, "acknowledge"]), follow=True
    )

    assert f"{incident.reference} acknowledged." in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"INC-1", "INC-2", "INC-3"}),
        ("?state=open", {"INC-1", "INC-2"}),
        ("?state=finished", {"INC-3"}),
        ("?severity=SEV1", {"INC-1"}),
        ("?status=acknowledged", {"INC-2"}),
        ("?q=kafka", {"INC-2"}),
        ("?q=INC-3", {"INC-3"}),
        ("?severity=BOGUS", set()),
    ],
)
def test_list_filters(client_for, query, expected):
    IncidentFactory(reference="INC-1", severity="SEV1", title="Broker down")
    IncidentFactory(reference="INC-2", status="acknowledged", title="Kafka lag")
    IncidentFactory(reference="INC-3", status="closed", title="Dashboard blank")

    response = client_for("auditor").get(reverse("incidents:list") + query)

    assert response.status_code == 200
    shown = set(re.findall(r">(INC-\d)</a>", response.content.decode()))
    assert shown == expected


def test_list_paginates_and_keeps_filters(client_for):
    Incident.objects.bulk_create(
        IncidentFactory.build(reference=f"INC-X-{n:03d}", severity="SEV3") for n in range(30)
    )

    client = client_for("auditor")
    first = client.get(reverse("incidents:list") + "?severity=SEV3").context["page"]

    response = client.get(reverse("incidents:list") + f"?severity=SEV3&after={first.older}")

    html = response.content.decode()
    assert "5 shown of 30 incidents" in html
    assert f"?severity=SEV3&amp;before={response.context['page'].newer}" in html
    assert len(re.findall(r">INC-X-\d+</a>", html)) == 5


def test_impact_form_error_rerenders_with_the_message(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")

    response = client_for("operator1").post(
        reverse("incidents:impact", args=[incident.pk]),
        {"impact-pnl_currency": "dollars", "impact-orders_affected": "-3"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value has at most 3 characters" in html
    assert "Ensure this value is greater than or equal to 0." in html


def test_overdue_update_and_sla_breach_show_on_incident_and_dashboard(client_for):
    incident = IncidentFactory(
        title="Feed stalled", severity="SEV1", detected_at=timezone.now() - timedelta(hours=1)
    )
    client = client_for("risk")

    detail = _main(client.get(reverse("incidents:detail", args=[incident.pk])))
    dashboard = client.get(reverse("dashboard")).content.decode()

    assert "status update overdue" in detail
    assert "SLA breached" in detail
    breaches = dashboard[dashboard.index('id="breach-h"') : dashboard.index('id="overdue-h"')]
    overdue = dashboard[dashboard.index('id="overdue-h"') : dashboard.index('id="open-h"')]
    assert incident.reference in breaches
    assert incident.reference in overdue


def test_empty_note_rerenders_with_the_error(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")

    response = client_for("risk").post(
        reverse("incidents:note_add", args=[incident.pk]), {"kind": "note", "body": "  "}
    )

    assert response.status_code == 400
    assert "Write something for the timeline." in response.content.decode()


GARBAGE = {
    "severity": "SEV9",
    "note": "x" * 2000,
    "reason": "y" * 2000,
    "kind": "zzz",
    "role": "boss",
    "user": "abc",
    "procedure": "../../etc/passwd",
    "body": "",
    "url": "javascript:alert(1)",
    "impact-pnl_impact": "lots",
    "impact-pnl_currency": "",
    "impact-orders_affected": "-1",
}


@pytest.mark.parametrize("path", WRITE_PATHS, ids=[w.name for w in WRITE_PATHS])
def test_garbage_input_is_a_400_that_changes_nothing(client_for, users, playbook, path):
    incident = _sev3(users, playbook, *path.verbs)
    url_name, *args = path.url(incident, users)
    before = path.seen(incident)
    entries_before = TimelineEntry.objects.filter(incident=incident).count()

    response = client_for("commander").post(reverse(f"incidents:{url_name}", args=args), GARBAGE)

    assert response.status_code == 400
    assert path.seen(incident) == before
    assert TimelineEntry.objects.filter(incident=incident).count() == entries_before


def test_resolved_incident_prompts_for_the_resolution_notice_until_posted(client_for, users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV3")
    walk(incident, users["commander"], "acknowledge", "investigate", "resolve")
    url = reverse("incidents:detail", args=[incident.pk])
    client = client_for("operator1")

    before = _main(client.get(url))
    services.incident_status_update_post(
        actor=users["operator1"], incident=incident, kind="resolution", fields={"root_cause": "x"}
    )
    after = _main(client.get(url))

    assert "Post the resolution notice" in before
    assert "Post the resolution notice" not in after
