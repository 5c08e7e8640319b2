import pytest

from incidents import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = ["incident", "timelineentry", "statusupdate", "roleassignment"]


@pytest.fixture
def staff_auditor(client):
    client.force_login(UserFactory(username="staff-auditor", roles=["auditor"], is_staff=True))
    return client


@pytest.mark.parametrize("model", MODELS)
def test_admin_lists_and_shows_incident_records_read_only(staff_auditor, users, model):
    incident = services.incident_open(actor=users["operator1"], title="Kafka", severity="SEV3")
    services.incident_role_assign(
        actor=users["commander"], incident=incident, role="scribe", user=users["operator2"]
    )
    services.incident_status_update_post(
        actor=users["operator1"], incident=incident, kind="initial", fields={"impact": "x"}
    )
    objects = {
        "incident": incident,
        "timelineentry": incident.timeline.first(),
        "statusupdate": incident.status_updates.first(),
        "roleassignment": incident.assignments.first(),
    }
    pk = objects[model].pk

    listing = staff_auditor.get(f"/admin/incidents/{model}/")
    detail = staff_auditor.get(f"/admin/incidents/{model}/{pk}/change/")
    add = staff_auditor.get(f"/admin/incidents/{model}/add/")
    delete = staff_auditor.post(f"/admin/incidents/{model}/{pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert add.status_code == 403
    assert delete.status_code == 403
    assert type(objects[model]).objects.filter(pk=pk).exists()
