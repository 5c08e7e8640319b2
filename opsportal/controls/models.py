"""Trading environments: mode (DRY_RUN/LIVE) and kill switch.

Skeleton: the controls issue adds the kill-switch lifecycle, history and gate.
"""

from __future__ import annotations

from django.db import models


class Environment(models.Model):
    class Mode(models.TextChoices):
        DRY_RUN = "DRY_RUN", "DRY_RUN"
        LIVE = "LIVE", "LIVE"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    venue = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.DRY_RUN)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug
