"""Sign-offs are tested on the first real signable, a drill run."""

from tests.drills.conftest import paper, version  # noqa: F401 - fixtures
