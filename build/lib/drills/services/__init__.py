"""drills services: runs.py (planning, pre-drill checklist, start, complete, abort),
recording.py (step outcomes and follow-ups), signing.py (the sign-off rules of a run),
schedules.py (schedules), automation.py (timings measured by the portal). Import from
the submodule that owns a service. Each public service is an entry point that owns
its transaction; the schedule services the admin's change form composes have
`_in_transaction` variants."""
