"""Writes for accounts. `user_ensure` (seeding) owns its transaction; the admin's
writes run in the transaction of its change form (the `_in_transaction` services)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from opsportal.accounts.models import User
from opsportal.audit.services import audit_record, durable_entry_point, service_entry_point


@service_entry_point
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
    people are otherwise managed in the admin. Owns its transaction.

    Idempotent without side effects: a password that already matches is not set again
    (a new hash would sign the user out of every session: `make run` re-seeds on every
    start), nothing unchanged is saved, and a change of an existing user's roles is
    audited as `user.roles_changed`."""
    with transaction.atomic(durable=True):
        user, created = User.objects.select_for_update().get_or_create(username=username)
        wanted = {"first_name": first_name, "last_name": last_name, "is_staff": is_staff}
        changed = [field for field, value in wanted.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, wanted[field])
        if created or not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        before = set(user.groups.values_list("name", flat=True))
        user.groups.set(Group.objects.filter(name__in=list(roles)))
        after = set(user.groups.values_list("name", flat=True))
        if not created and after != before:
            audit_record(
                actor=actor,
                event_type="user.roles_changed",
                obj=user,
                before={"roles": sorted(before)},
                after={"roles": sorted(after)},
            )
        if created:
            audit_record(
                actor=actor,
                event_type="user.created",
                obj=user,
                after={"username": username, "roles": sorted(roles), "is_staff": is_staff},
            )
        return user, created


_AUDITED_USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)


def user_admin_save_in_transaction(
    *, actor: Any, user: User, created: bool, changed_fields: Iterable[str]
) -> User:
    """Save a user edited in the admin and audit what changed (never the password
    hash: a password change is recorded as `password_changed`).

    The admin's forms validate the input; this records it. Role (group) changes are
    audited separately by `user_roles_audit_in_transaction`, after the admin has saved
    them. Runs in the caller's transaction (the admin's change form holds one);
    `user_admin_save` is the entry point that owns one.
    """
    changed = [f for f in changed_fields if f in _AUDITED_USER_FIELDS]
    password_changed = "password" in changed_fields or "password1" in changed_fields
    with transaction.atomic():
        before = None
        if not created:
            before = (
                User.objects.select_for_update()
                .filter(pk=user.pk)
                .values(*_AUDITED_USER_FIELDS)
                .first()
            )
        user.save()
        audit_record(
            actor=actor,
            event_type="user.created" if created else "user.changed",
            obj=user,
            before={f: before[f] for f in changed} if before else None,
            after={
                **{f: getattr(user, f) for f in (changed if before else _AUDITED_USER_FIELDS)},
                **({"password_changed": True} if password_changed and not created else {}),
            },
        )
    return user


user_admin_save = durable_entry_point(user_admin_save_in_transaction)


def user_roles_audit_in_transaction(*, actor: Any, user: User, before: set[str]) -> None:
    """Audit a change of `user`'s groups made by the admin (`before`: group names
    before the save). Records nothing when the roles did not change. Runs in the
    caller's transaction, the one that changed the groups (the admin's change form)."""
    after = set(user.groups.values_list("name", flat=True))
    if after == before:
        return
    with transaction.atomic():
        audit_record(
            actor=actor,
            event_type="user.roles_changed",
            obj=user,
            before={"roles": sorted(before)},
            after={"roles": sorted(after)},
        )


def user_password_changed_audit_in_transaction(*, actor: Any, user_id: int) -> None:
    """Record that an admin set `user_id`'s password (the caller holds the transaction
    that saved it; the hash itself is never recorded)."""
    user = User.objects.get(pk=user_id)
    audit_record(actor=actor, event_type="user.password_changed", obj=user)
