"""Seal the audit chain and sign a checkpoint of its head."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from opsportal.audit.chain import checkpoint_create, checkpoint_file


class Command(BaseCommand):
    help = "Seal pending audit events and record a signed checkpoint (with a file copy)."

    def handle(self, *args: Any, **options: Any) -> None:
        cp = checkpoint_create()
        if cp is None:
            self.stdout.write("The audit chain is empty: no checkpoint.")
            return
        self.stdout.write(
            f"Checkpoint {cp.pk} at seq {cp.last_seq} ({cp.last_hash[:16]}…), "
            f"key {cp.key_id}, copy in {checkpoint_file()}"
        )
