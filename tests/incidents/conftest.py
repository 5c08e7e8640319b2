import pytest

from incidents import services
from tests.incidents.factories import publish_playbook


@pytest.fixture
def playbook(db):
    return publish_playbook()


@pytest.fixture
def open_incident(users):
    """`open_incident(severity="SEV2", **kwargs)` opens one as operator1 via the service."""

    def make(**kwargs):
        kwargs.setdefault("title", "Broker session dropped")
        kwargs.setdefault("severity", "SEV2")
        kwargs.setdefault("actor", users["operator1"])
        return services.incident_open(**kwargs)

    return make
