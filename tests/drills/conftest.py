import pytest

from tests.drills.factories import EnvironmentFactory, publish


@pytest.fixture
def version(db):
    return publish()


@pytest.fixture
def paper(db):
    return EnvironmentFactory(slug="paper")
