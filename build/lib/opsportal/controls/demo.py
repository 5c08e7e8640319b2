"""Demo environments (seed_demo). Idempotent.

- `paper`: paper trading, DRY_RUN since 30 days ago, so a newcomer can request the
  live transition at once (the 24 h DRY_RUN precondition passes).
- `valr-live`: the VALR venue, also DRY_RUN since 30 days ago: going live is the
  four-eyes exercise the demo is for; nothing in the demo trades for real.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from opsportal.controls.models import Environment
from opsportal.controls.services import environment_save

DEMO_ENVIRONMENTS = [
    ("paper", "Paper trading", "paper", "Simulated fills; safe to try every control."),
    ("valr-live", "VALR spot", "VALR", "Production venue (demo: nothing trades for real)."),
]


def seed(*, users: dict[str, Any], stdout: Any) -> None:
    since = timezone.now() - dt.timedelta(days=30)
    for slug, name, venue, description in DEMO_ENVIRONMENTS:
        if Environment.objects.filter(slug=slug).exists():
            stdout.write(f"environment {slug} exists")
            continue
        env = Environment(
            slug=slug,
            name=name,
            venue=venue,
            description=description,
            mode_changed_at=since,
            dry_run_since=since,
        )
        environment_save(environment=env, actor=users.get("admin"), created=True)
        stdout.write(f"created environment {slug} (DRY_RUN since {since:%Y-%m-%d})")
