"""Writes for accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from opsportal.accounts.models import User
from opsportal.audit.services import audit_record


def user_ensure(
    *,
    actor: Any,
    username: str,
    password: str,
    roles: Iterable[str],
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
) -> tuple[User, bool]:
    """Create `username` with `roles`, or bring an existing user's roles, name,
    staff flag and password into line. Returns (user, created). Used by seeding;
    people are otherwise managed in the admin."""
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(username=username)
        user.first_name, user.last_name, user.is_staff = first_name, last_name, is_staff
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=list(roles)))
        if created:
            audit_record(
                actor=actor,
                event_type="user.created",
                obj=user,
                after={"username": username, "roles": sorted(roles), "is_staff": is_staff},
            )
        return user, created
