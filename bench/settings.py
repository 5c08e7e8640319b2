"""Settings for bench/gate.py: the portal's own settings, with a URLconf that adds a
bare Django JSON view beside the real ones, so both are served by the same server,
process, middleware and settings."""

from opsportal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
