"""Writes for accounts. `user_ensure` (seeding) owns its transaction; the admin's
writes run in the transaction of its change form (the `_in_transaction` services)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from opsportal.accounts.models import User
from opsportal.accounts.roles import PRIVILEGED_ROLES
from opsportal.accounts.step_up import step_up_check
from opsportal.audit.services import audit_record, durable_entry_point, service_entry_point
from opsportal.core.errors import NotPermitted, ValidationFailed


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


# What nobody may change on their own user, whatever the path (issue 14 item 5).
OWN_ACCESS_FIELDS = frozenset({"groups", "user_permissions", "is_superuser", "is_staff"})

# `(*, actor, user, roles, superuser) -> str`: asks for the four-eyes approval of a
# privileged grant inside the caller's transaction and says what it made ("approval
# request #12"). Registered by the approvals app (above accounts: it owns the engine).
PrivilegedGrantRequester = Callable[..., str]
_privileged_grant_requester: list[PrivilegedGrantRequester] = []


def register_privileged_grant_requester(requester: PrivilegedGrantRequester) -> None:
    """Declare how a grant of PRIVILEGED_ROLES or superuser status is put to a second
    admin (approvals registers its `role_grant` action). Replaces any earlier one."""
    _privileged_grant_requester[:] = [requester]


def user_access_change_check(*, actor: Any, user: User, fields: Iterable[str]) -> None:
    """Refuse `actor` changing their own roles, permissions, superuser or staff flag.

    `fields`: the names of the fields being changed. Raises NotPermitted ("own_access",
    field: the first such field) when `actor` is `user`; another admin must do it."""
    own = sorted(OWN_ACCESS_FIELDS.intersection(fields))
    if own and actor is not None and user.pk is not None and actor.pk == user.pk:
        raise NotPermitted(
            "You cannot change your own roles, permissions, superuser or staff status: "
            "ask another admin.",
            code="own_access",
            field=own[0],
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
    changed_fields = list(changed_fields)
    user_access_change_check(actor=actor, user=user, fields=changed_fields)
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


def user_roles_change_in_transaction(
    *, actor: Any, user: User, roles: Iterable[str], superuser: bool
) -> list[str]:
    """Set `user`'s roles (group names) and superuser flag as `actor` asks.

    Removals and grants of ordinary roles apply at once; a grant of a PRIVILEGED_ROLES
    role or of superuser status is not applied but put to a second admin through the
    registered requester (approvals' `role_grant` action), and is applied when
    approved (`user_privileged_grant_in_transaction`). Every applied change is audited
    (`user.roles_changed`, `user.changed`). Runs in the caller's transaction (the
    admin's change form). Returns what was asked of a second admin ([] if nothing).

    Raises NotPermitted: `actor` is `user` and something changes ("own_access"); a
    privileged grant with no requester registered ("four_eyes_unavailable").
    """
    wanted = set(roles)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        current = set(user.groups.values_list("name", flat=True))
        if wanted != current or superuser != user.is_superuser:
            user_access_change_check(actor=actor, user=user, fields=["groups", "is_superuser"])
        held = sorted((wanted - current) & set(PRIVILEGED_ROLES))
        grant_superuser = superuser and not user.is_superuser
        applied = (wanted - set(held)) | (current & wanted)
        user.groups.set(Group.objects.filter(name__in=sorted(applied)))
        user_roles_audit_in_transaction(actor=actor, user=user, before=current)
        if user.is_superuser and not superuser:
            user.is_superuser = False
            user.save(update_fields=["is_superuser"])
            audit_record(
                actor=actor,
                event_type="user.changed",
                obj=user,
                before={"is_superuser": True},
                after={"is_superuser": False},
            )
        if not (held or grant_superuser):
            return []
        if not _privileged_grant_requester:
            raise NotPermitted(
                "Granting risk officer, admin or superuser needs a second admin's approval, "
                "and the approvals engine is not available.",
                code="four_eyes_unavailable",
            )
        made = _privileged_grant_requester[0](
            actor=actor, user=user, roles=held, superuser=grant_superuser
        )
    return [made]


def user_privileged_grant_in_transaction(
    *, actor: Any, user: User, roles: Iterable[str], superuser: bool, approved_by: Iterable[Any]
) -> dict:
    """Apply an approved grant of `roles` (PRIVILEGED_ROLES) and/or superuser status to
    `user`, audited. `actor`: who asked; `approved_by`: the users who approved.

    Runs in the approval's transaction. Raises NotPermitted ("own_access") when `user`
    asked for or approved the grant: nobody takes part in granting themselves access.
    Returns {"roles": [...], "superuser": bool} as applied.
    """
    approvers = list(approved_by)
    if any(getattr(person, "pk", None) == user.pk for person in [actor, *approvers]):
        raise NotPermitted(
            "Nobody may request or approve a grant of their own roles.", code="own_access"
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = set(user.groups.values_list("name", flat=True))
        user.groups.add(*Group.objects.filter(name__in=list(roles)))
        user_roles_audit_in_transaction(actor=actor, user=user, before=before)
        if superuser and not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
            audit_record(
                actor=actor,
                event_type="user.changed",
                obj=user,
                before={"is_superuser": False},
                after={"is_superuser": True},
                metadata={"approved_by": [str(person) for person in approvers]},
            )
    return {"roles": sorted(roles), "superuser": superuser}


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


@service_entry_point
def user_password_change(*, actor: Any, old_password: str, new_password: str) -> User:
    """`actor` changes their own password (the "Change password" page).

    `old_password` is checked like every step-up password (throttled: see
    accounts/step_up.py); `new_password` must pass AUTH_PASSWORD_VALIDATORS. Audited as
    `user.own_password_changed` (never the hash). The caller keeps the session signed
    in (`update_session_auth_hash`). Owns its transaction.

    Raises NotPermitted (field "old_password": "password_incorrect", "step_up_locked"),
    ValidationFailed (field "new_password1": the validators' messages).
    """
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=actor.pk)
        step_up_check(
            actor=user,
            password=old_password,
            purpose="password_change",
            wrong_password_message="Your current password was not accepted.",
            field="old_password",
        )
        try:
            password_validation.validate_password(new_password, user)
        except ValidationError as exc:
            raise ValidationFailed(
                " ".join(exc.messages), code="password_invalid", field="new_password1"
            ) from exc
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(actor=user, event_type="user.own_password_changed", obj=user)
    return user
