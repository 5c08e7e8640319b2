"""drills models: drill schedules and runs (runs.py). The procedure library lives in
`opsportal.library`, sign-offs in `opsportal.signoffs`."""

from drills.models.runs import *  # noqa: F401,F403
