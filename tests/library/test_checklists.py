import pytest

from opsportal.audit.models import AuditEvent
from opsportal.core.errors import NotFound
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import (
    checklist_instantiate_in_transaction,
    checklist_item_tick,
    procedure_publish,
)

SPEC = {
    "slug": "demo-playbook",
    "kind": "incident_playbook",
    "title": "Demo playbook",
    "severity": "SEV1",
    "steps": [
        {"title": "Verify halt", "instruction": "Check the gate says HALT"},
        {"title": "Notify", "instruction": "Post the initial alert"},
    ],
}


@pytest.fixture
def published(db):
    return procedure_publish(spec=parse_procedure(SPEC, origin="test"))[0]


def test_checklist_instantiate_makes_one_item_per_step(published, users):
    target = users["operator2"]  # any saved model will do as a target

    checklist = checklist_instantiate_in_transaction(
        procedure_slug="demo-playbook", target=target, actor=users["operator1"]
    )

    assert [i.step.title for i in checklist.items.all()] == ["Verify halt", "Notify"]
    assert checklist.target == target
    assert AuditEvent.objects.filter(event_type="checklist.created").count() == 1


def test_checklist_instantiate_unknown_procedure_is_not_found(db, users):
    with pytest.raises(NotFound):
        checklist_instantiate_in_transaction(
            procedure_slug="nope", target=users["admin"], actor=users["admin"]
        )


def test_checklist_item_tick_records_who_when_and_note_once(published, users):
    checklist = checklist_instantiate_in_transaction(
        procedure_slug="demo-playbook", target=users["admin"], actor=users["admin"]
    )
    item = checklist.items.first()

    ticked = checklist_item_tick(item_id=item.pk, actor=users["operator1"], note=" halted ")
    again = checklist_item_tick(item_id=item.pk, actor=users["operator2"], note="other")

    assert (ticked.done_by, ticked.note) == (users["operator1"], "halted")
    assert (again.done_by, again.done_at) == (users["operator1"], ticked.done_at)
    assert AuditEvent.objects.filter(event_type="checklist.item_ticked").count() == 1
