import pytest

from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import publish


@pytest.fixture
def version(db):
    return publish()


@pytest.fixture
def paper(db):
    return EnvironmentFactory(slug="paper")
