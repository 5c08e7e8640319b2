"""Issue 14 item 16: a response role is work on the incident, so only someone whose
portal roles allow that work may hold it. The auditor (who may change nothing) and
the admin hold none; the risk officer may be the incident's risk officer, scribe or
expert, never its commander."""

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import ResponseRole, RoleAssignment
from incidents.permissions import RESPONSE_ROLE_NEEDS
from opsportal.accounts.roles import role_grants
from opsportal.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", ["auditor", "admin"])
@pytest.mark.parametrize("role", ResponseRole.values)
def test_incident_role_assign_refuses_users_who_may_change_nothing(
    users, open_incident, role, username
):
    incident = open_incident()

    with pytest.raises(ValidationFailed) as refused:
        services.incident_role_assign(
            actor=users["commander"], incident=incident, role=role, user=users[username]
        )

    assert (refused.value.field, refused.value.code) == ("user", "role_not_permitted")
    assert not RoleAssignment.objects.filter(incident=incident).exists()


def test_risk_officer_may_be_the_incidents_risk_officer_but_not_its_commander(users, open_incident):
    incident = open_incident()

    services.incident_role_assign(
        actor=users["commander"], incident=incident, role="risk_officer", user=users["risk"]
    )
    with pytest.raises(ValidationFailed, match="cannot be incident commander"):
        services.incident_role_assign(
            actor=users["commander"],
            incident=incident,
            role="incident_commander",
            user=users["risk"],
        )

    current = RoleAssignment.objects.filter(incident=incident, ended_at__isnull=True)
    assert [(a.role, a.user.username) for a in current] == [("risk_officer", "risk")]


def test_role_form_assigning_the_auditor_as_commander_shows_the_error(
    client_for, users, open_incident
):
    incident = open_incident()

    response = client_for("commander").post(
        reverse("incidents:role_assign", args=[incident.pk]),
        {"role": "incident_commander", "user": users["auditor"].pk},
    )

    assert response.status_code == 400
    assert "cannot be incident commander" in response.content.decode()
    assert not RoleAssignment.objects.filter(incident=incident).exists()


def test_every_response_role_names_permissions_that_some_portal_role_grants():
    granted = set().union(*role_grants().values())

    assert set(RESPONSE_ROLE_NEEDS) == set(ResponseRole.values)
    assert set().union(*RESPONSE_ROLE_NEEDS.values()) <= granted
