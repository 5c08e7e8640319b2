"""The shipped procedure library, its file format and `procedure_revise`."""

import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from drills.selectors import automation_kind
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import Conflict, NotFound, ValidationFailed
from opsportal.library.models import ChecklistItem, Procedure, ProcedureStep, ProcedureVersion
from opsportal.library.procedure_files import (
    parse_procedure,
    read_procedure_dir,
    read_procedure_file,
    spec_to_toml,
)
from opsportal.library.services import (
    checklist_instantiate_in_transaction,
    procedure_library_load,
    procedure_publish,
    procedure_revise,
    procedure_version_spec,
)

PLAYBOOK_SEVERITIES = {
    "p0-0-kill-switch-triggered": "SEV1",
    "p0-1-kill-switch-pnl-breach": "SEV1",
    "p0-2-kill-switch-max-drawdown": "SEV1",
    "p0-3-unauthorized-trading": "SEV1",
    "p1-1-broker-disconnection": "SEV2",
    "p1-2-message-bus-failure": "SEV2",
    "p1-3-order-rejection-spike": "SEV2",
    "p2-1-high-latency": "SEV3",
    "p2-2-data-quality": "SEV3",
}
SHIPPED_KINDS = {
    **dict.fromkeys(PLAYBOOK_SEVERITIES, "incident_playbook"),
    "rollback-to-dry-run": "rollback",
    "live-transition": "transition",
    "pre-live-checklist": "checklist",
    "kill-switch-drill": "drill",
    "kill-switch-verification": "drill",
    "rollback-drill": "drill",
    "failover-drill": "drill",
    "full-incident-drill": "drill",
    "clock-drift-drill": "drill",
    "clock-drift-playbook": "incident_playbook",
}
RUNBOOKS = (
    "emergency-procedures-handbook.md",
    "incident-response-playbook-algo-trade.md",
    "incident-response-playbook-sev-levels.md",
    "live-trading-runbook.md",
    "ops-drills-and-rollback-evidence.md",
)

DRILL_TOML = """
slug = "test-proc"
kind = "drill"
title = "Test procedure"
pass_criteria = "The button was pressed in time."
signoff_roles = ["drill_lead", "observer"]

[[steps]]
title = "Do it"
instruction = "Press the button"
time_target_seconds = {target}
"""

VALID = {
    "slug": "demo-drill",
    "kind": "drill",
    "title": "Demo drill",
    "pass_criteria": "All steps pass.",
    "signoff_roles": ["drill_lead", "observer"],
    "steps": [
        {"scenario": "A", "title": "First", "instruction": "Do the first thing"},
        {"scenario": "A", "title": "Second", "instruction": "Do the second thing"},
        {"scenario": "B", "title": "Third", "instruction": "Do the third thing"},
    ],
}


def shipped() -> dict:
    return {spec.slug: spec for spec in read_procedure_dir(settings.OPSPORTAL_PROCEDURES_DIR)}


def write_spec(directory: Path, target: int) -> None:
    (directory / "test-proc.toml").write_text(DRILL_TOML.format(target=target))


@pytest.fixture
def library(db):
    """The shipped library, loaded as `make run` loads it."""
    call_command("load_procedures")


# --- the shipped files ------------------------------------------------------------


def test_shipped_library_has_exactly_the_agreed_slugs_and_kinds():
    specs = shipped()

    assert {slug: spec.kind for slug, spec in specs.items()} == SHIPPED_KINDS


def test_shipped_playbooks_map_p0_p1_p2_to_sev1_sev2_sev3():
    specs = shipped()

    assert {slug: specs[slug].severity for slug in PLAYBOOK_SEVERITIES} == PLAYBOOK_SEVERITIES


def test_shipped_files_name_the_runbook_they_implement():
    sources = {slug: spec.source for slug, spec in shipped().items()}

    missing = [slug for slug, source in sources.items() if not source.startswith(RUNBOOKS)]
    assert missing == []


def test_rollback_to_dry_run_has_the_eight_steps_in_order():
    spec = shipped()["rollback-to-dry-run"]

    assert [s["title"] for s in spec.steps] == [
        "Trigger the kill switch",
        "Check open positions",
        "Close positions",
        "Disable the live trading gates",
        "Enable shadow (DRY_RUN) mode",
        "Test a shadow session",
        "Verify no live orders are possible",
        "Document the rollback",
    ]
    assert spec.steps[0]["time_target_seconds"] == 10
    assert "24 hours" in spec.pass_criteria


def test_rollback_checkpoints_fit_the_five_to_fifteen_minute_rollback():
    spec = shipped()["rollback-to-dry-run"]

    total = sum(s.get("time_target_seconds", 0) for s in spec.steps)

    assert 5 * 60 <= total <= 15 * 60


def test_live_transition_has_ten_steps_and_pre_live_checklist_is_attestable():
    specs = shipped()
    checklist = specs["pre-live-checklist"]

    assert len(specs["live-transition"].steps) == 10
    assert specs["live-transition"].steps[0]["title"] == "Create the transition audit record"
    assert 12 <= len(checklist.steps) <= 18
    assert "Clock drift under 1000 ms" in [s["title"] for s in checklist.steps]
    assert checklist.steps[-1]["title"] == "Two authorised people present"


def test_kill_switch_drill_has_four_scenarios_and_a_ten_second_trigger_step():
    spec = shipped()["kill-switch-drill"]
    scenarios = list(dict.fromkeys(s["scenario"] for s in spec.steps))
    manual = [s for s in spec.steps if s["scenario"] == "Manual trigger"]
    recovery = [s["title"] for s in spec.steps if s["scenario"] == "Recovery"]

    assert sorted(scenarios) == [
        "Manual trigger",
        "Mid-session block",
        "Recovery",
        "Threshold trigger",
    ]
    assert manual[0]["title"] == "Trigger the kill switch and confirm HALT"
    assert manual[0]["time_target_seconds"] == 10
    assert "Complete recovery and confirm ALLOW" in recovery
    assert spec.signoff_roles == ["drill_lead", "risk_officer"]


def test_kill_switch_verification_has_six_steps_with_a_one_second_activation():
    spec = shipped()["kill-switch-verification"]

    assert [s["title"] for s in spec.steps] == [
        "Check the initial state",
        "Activate the kill switch and confirm HALT",
        "Verify the HALT decision",
        "Attempt a test trade",
        "Recover the kill switch and confirm ALLOW",
        "Verify the ALLOW decision",
    ]
    assert spec.steps[1]["time_target_seconds"] == 1
    assert spec.signoff_roles == ["drill_lead", "risk_officer"]


@pytest.mark.parametrize(
    ("slug", "target"), [("kill-switch-drill", 10), ("kill-switch-verification", 1)]
)
def test_kill_switch_procedures_have_one_automated_trigger_and_one_recovery_step(
    library, slug, target
):
    """The drills app times the steps whose titles its automation recognises: exactly
    one trigger-to-HALT step and one recovery-to-ALLOW step per procedure."""
    version = ProcedureVersion.objects.get(procedure__slug=slug)

    kinds = [automation_kind(slug, step) for step in version.steps.all()]

    assert [k for k in kinds if k] == ["trigger", "recovery"]
    trigger = version.steps.get(position=kinds.index("trigger") + 1)
    assert trigger.time_target_seconds == target


def test_every_shipped_drill_has_a_pre_checklist_and_pass_criteria():
    drills = [spec for spec in shipped().values() if spec.kind == "drill"]

    assert len(drills) == 6
    assert all(spec.pre_checklist and spec.pass_criteria for spec in drills)


def test_spec_to_toml_round_trips_every_shipped_file():
    specs = list(shipped().values())

    again = [parse_procedure(tomllib.loads(spec_to_toml(s)), origin="round trip") for s in specs]

    assert again == specs


# --- loading ----------------------------------------------------------------------


@pytest.mark.django_db
def test_load_procedures_publishes_every_shipped_file_once(capsys):
    call_command("load_procedures")
    call_command("load_procedures")

    out = capsys.readouterr().out
    n = len(shipped())  # every file in opsportal/library/procedures/
    assert f"{n} published, 0 unchanged" in out
    assert f"0 published, {n} unchanged" in out
    assert Procedure.objects.count() == n
    assert set(ProcedureVersion.objects.values_list("version", "status")) == {(1, "published")}
    rollback = ProcedureVersion.objects.get(procedure__slug="rollback-to-dry-run")
    assert rollback.steps.count() == 8


@pytest.mark.django_db
def test_load_procedures_versions_a_changed_file_and_keeps_the_old_steps(tmp_path):
    write_spec(tmp_path, 10)
    call_command("load_procedures", "--dir", str(tmp_path))
    first = ProcedureVersion.objects.get(procedure__slug="test-proc")

    write_spec(tmp_path, 20)
    call_command("load_procedures", "--dir", str(tmp_path))

    versions = dict(
        ProcedureVersion.objects.filter(procedure__slug="test-proc").values_list(
            "version", "status"
        )
    )
    assert versions == {1: "retired", 2: "published"}
    assert first.steps.get().time_target_seconds == 10


def test_procedure_version_spec_round_trips_the_content_hash(library):
    versions = ProcedureVersion.objects.select_related("procedure").prefetch_related("steps")

    mismatched = [
        v.procedure.slug
        for v in versions
        if procedure_version_spec(v).content_sha256 != v.content_sha256
    ]
    assert mismatched == []


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"owner": "ops"}, "owner"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"kind": "recipe"}, "kind"),
        ({"title": ""}, "title"),
        ({"severity": "SEV1"}, "severity"),
        ({"signoff_roles": ["drill_lead"]}, "signoff_roles"),
        ({"signoff_roles": ["observer", "risk_officer"]}, "signoff_roles"),
        ({"signoff_roles": ["drill_lead", "second_signer"]}, "signoff_roles[1]"),
        ({"signoff_roles": ["drill_lead", "drill_lead"]}, "signoff_roles"),
        ({"pass_criteria": ""}, "pass_criteria"),
        ({"pre_checklist": "one item"}, "pre_checklist"),
        ({"pre_checklist": ["ok", ""]}, "pre_checklist[1]"),
        ({"steps": []}, "steps"),
        ({"steps": [{"title": "No instruction"}]}, "steps[1].instruction"),
        ({"steps": [{"title": "t", "instruction": "i", "owner": "x"}]}, "steps[1].owner"),
        (
            {"steps": [{"title": "t", "instruction": "i", "time_target_seconds": 0}]},
            "steps[1].time_target_seconds",
        ),
        (
            {"steps": [{"title": "t", "instruction": "i", "time_target_seconds": True}]},
            "steps[1].time_target_seconds",
        ),
        (
            {"steps": [{"title": "t", "instruction": "i", "time_target_seconds": 1.5}]},
            "steps[1].time_target_seconds",
        ),
        (
            {"steps": [*VALID["steps"], {"scenario": "A", "title": "t", "instruction": "i"}]},
            "steps[4].scenario",
        ),
    ],
)
def test_parse_procedure_rejects_invalid_data_naming_file_and_key(change, field):
    with pytest.raises(ValidationFailed) as raised:
        parse_procedure({**VALID, **change}, origin="demo-drill.toml")

    assert raised.value.field == field
    assert raised.value.message.startswith(f"demo-drill.toml: {field} ")


def test_parse_procedure_requires_a_severity_for_playbooks():
    data = {**VALID, "kind": "incident_playbook", "signoff_roles": [], "severity": "P0"}

    with pytest.raises(ValidationFailed) as raised:
        parse_procedure(data, origin="p.toml")

    assert raised.value.field == "severity"
    assert "SEV1, SEV2, SEV3, SEV4" in raised.value.message


def test_parse_procedure_accepts_a_valid_drill_and_strips_text():
    spec = parse_procedure({**VALID, "title": "  Demo drill  "}, origin="demo-drill.toml")

    assert spec.title == "Demo drill"
    assert [s["scenario"] for s in spec.steps] == ["A", "A", "B"]


def test_read_procedure_file_requires_the_file_name_to_match_the_slug(tmp_path):
    path = tmp_path / "other-name.toml"
    path.write_text(DRILL_TOML.format(target=5))

    with pytest.raises(ValidationFailed) as raised:
        read_procedure_file(path)

    assert raised.value.field == "slug"
    assert raised.value.message.startswith("other-name.toml: slug must match")


def test_read_procedure_dir_reports_broken_toml_with_the_file_name(tmp_path):
    (tmp_path / "broken.toml").write_text('slug = "broken\n')

    with pytest.raises(ValidationFailed) as raised:
        read_procedure_dir(tmp_path)

    assert raised.value.message.startswith("broken.toml: ")


# --- procedure_revise -------------------------------------------------------------


@pytest.fixture
def drill_v1(db):
    return procedure_publish(spec=parse_procedure(VALID, origin="test"))[0]


def test_procedure_revise_publishes_v2_and_leaves_v1_and_its_steps_untouched(drill_v1, users):
    v1_steps = list(drill_v1.steps.values("pk", "position", "title", "instruction"))
    checklist = checklist_instantiate_in_transaction(
        procedure_slug="demo-drill", target=users["admin"], actor=users["admin"]
    )
    new_steps = [*VALID["steps"], {"scenario": "B", "title": "Fourth", "instruction": "More"}]

    v2 = procedure_revise(
        version_id=drill_v1.pk,
        actor=users["admin"],
        changes={"title": "Demo drill, revised", "steps": new_steps},
    )

    drill_v1.refresh_from_db()
    assert (v2.version, v2.status, v2.title, v2.created_by) == (
        2,
        "published",
        "Demo drill, revised",
        users["admin"],
    )
    assert [s.title for s in v2.steps.all()] == ["First", "Second", "Third", "Fourth"]
    assert (drill_v1.status, drill_v1.title) == ("retired", "Demo drill")
    assert list(drill_v1.steps.values("pk", "position", "title", "instruction")) == v1_steps
    assert set(
        ChecklistItem.objects.filter(checklist=checklist).values_list("step__version", flat=True)
    ) == {drill_v1.pk}
    revised = AuditEvent.objects.get(event_type="procedure.revised")
    assert (revised.before["version"], revised.after["version"]) == (1, 2)
    assert revised.metadata == {"changed": ["steps", "title"]}


def test_procedure_revise_keeps_unchanged_fields(drill_v1, users):
    v2 = procedure_revise(
        version_id=drill_v1.pk, actor=users["admin"], changes={"pass_criteria": "Stricter."}
    )

    assert (v2.pass_criteria, v2.signoff_roles, v2.steps.count()) == (
        "Stricter.",
        ["drill_lead", "observer"],
        3,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "changes"),
        ({"slug": "renamed"}, "slug"),
        ({"kind": "checklist"}, "kind"),
        ({"owner": "ops"}, "owner"),
        ({"title": ""}, "title"),
        ({"steps": [{"title": "No instruction"}]}, "steps[1].instruction"),
        ({"signoff_roles": ["drill_lead"]}, "signoff_roles"),
        ({"title": "Demo drill"}, "changes"),
    ],
)
def test_procedure_revise_rejects_bad_changes_naming_the_field(drill_v1, users, changes, field):
    with pytest.raises(ValidationFailed) as raised:
        procedure_revise(version_id=drill_v1.pk, actor=users["admin"], changes=changes)

    assert raised.value.field == field
    assert ProcedureVersion.objects.filter(procedure__slug="demo-drill").count() == 1


def test_procedure_revise_refuses_a_retired_version(drill_v1, users):
    procedure_revise(version_id=drill_v1.pk, actor=users["admin"], changes={"title": "Second"})

    with pytest.raises(Conflict):
        procedure_revise(version_id=drill_v1.pk, actor=users["admin"], changes={"title": "Third"})

    assert ProcedureVersion.objects.filter(procedure__slug="demo-drill").count() == 2


def test_procedure_revise_unknown_version_is_not_found(db, users):
    with pytest.raises(NotFound):
        procedure_revise(version_id=987654, actor=users["admin"], changes={"title": "x"})


def test_reloading_an_unchanged_file_keeps_a_portal_revision(tmp_path, users):
    write_spec(tmp_path, 10)
    call_command("load_procedures", "--dir", str(tmp_path))
    v1 = ProcedureVersion.objects.get(procedure__slug="test-proc")
    procedure_revise(version_id=v1.pk, actor=users["admin"], changes={"title": "Revised"})

    result = procedure_library_load(specs=read_procedure_dir(tmp_path))

    assert (result.created, result.kept_revised) == ([], ["test-proc v2"])
    assert ProcedureVersion.objects.get(status="published").title == "Revised"


def test_an_edited_file_supersedes_a_portal_revision(tmp_path, users):
    write_spec(tmp_path, 10)
    call_command("load_procedures", "--dir", str(tmp_path))
    v1 = ProcedureVersion.objects.get(procedure__slug="test-proc")
    procedure_revise(version_id=v1.pk, actor=users["admin"], changes={"title": "Revised"})
    write_spec(tmp_path, 30)

    result = procedure_library_load(specs=read_procedure_dir(tmp_path))

    published = ProcedureVersion.objects.get(status="published")
    assert result.created == ["test-proc v3"]
    assert (published.title, published.steps.get().time_target_seconds) == ("Test procedure", 30)
    assert ProcedureStep.objects.filter(version=v1).get().time_target_seconds == 10
