"""drills models: the procedure library and checklists (library.py), drill
schedules and runs (runs.py), sign-offs (signoffs.py)."""

from drills.models.library import (  # noqa: F401
    Checklist,
    ChecklistItem,
    Procedure,
    ProcedureStep,
    ProcedureVersion,
)
from drills.models.runs import *  # noqa: F401,F403
from drills.models.signoffs import *  # noqa: F401,F403
