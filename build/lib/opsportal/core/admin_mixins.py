"""Shared admin building blocks."""

from __future__ import annotations

from typing import Any


class ReadOnlyAdminMixin:
    """For records that change only through services (or never): the admin shows
    them and offers no add, change or delete. Use on ModelAdmin and inline classes."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
