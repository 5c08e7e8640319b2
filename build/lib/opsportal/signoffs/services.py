"""Writes for sign-offs (any app may call these).

A model becomes signable by registering an adapter:

    from opsportal.signoffs.services import SignableAdapter, register_signable

    class ReviewSignable(SignableAdapter):
        def content(self, target): ...          # canonical dict of what is signed
        def required_roles(self, target): ...   # e.g. ["author", "risk_officer"]
        def check_can_sign(self, target): ...   # raise Conflict if not signable now
        def check_role(self, target, user, role): ...  # raise NotPermitted if not
        def on_complete(self, target, actor): ...      # all roles signed: transition

    register_signable(Review, ReviewSignable())

`signable_content(target)` returns the dict, `signable_sha256(target)` the SHA-256 of
its canonical JSON (`opsportal.core.hashing`). The signer is shown the content and its
hash; `signoff_sign` refuses if the hash they saw is no longer current. A sign-off
holds while the target's content still hashes to what was signed (`valid_signoffs`):
edits need not void anything, and the next signature voids what no longer holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from opsportal.accounts.step_up import step_up_check
from opsportal.audit.services import audit_record, refusal_attach, service_entry_point
from opsportal.core.errors import Conflict, DomainError, NotPermitted, ValidationFailed
from opsportal.core.hashing import json_values, sha256_hex
from opsportal.core.text import COMMENT_MAX, text_within
from opsportal.signoffs.models import Signoff

logger = logging.getLogger(__name__)

ROLE_LABELS = {
    "drill_lead": "Drill lead",
    "observer": "Observer",
    "risk_officer": "Risk officer",
    "second_signer": "Second signer",
}


class SignableAdapter:
    """What the sign-off service needs to know about a kind of target."""

    def content(self, target: Any) -> dict[str, Any]:
        raise NotImplementedError

    def required_roles(self, target: Any) -> list[str]:
        raise NotImplementedError

    def check_can_sign(self, target: Any) -> None:
        """Raise Conflict when the target is not in a state that can be signed."""

    def check_role(self, target: Any, user: Any, role: str) -> None:
        """Raise NotPermitted when `user` may not sign in `role`. The default knows
        the shared vocabulary: risk_officer = member of the risk_officer group."""
        if role == "risk_officer" and not user_in_group(user, "risk_officer"):
            raise NotPermitted("Only a risk officer can sign as risk officer.", code="wrong_role")

    def on_complete(self, target: Any, actor: Any) -> None:
        """Called inside the signing transaction once every required role is signed."""


_ADAPTERS: dict[str, SignableAdapter] = {}


def register_signable(model: type[models.Model], adapter: SignableAdapter) -> None:
    _ADAPTERS[model._meta.label_lower] = adapter


def _adapter(target: models.Model) -> SignableAdapter:
    try:
        return _ADAPTERS[target._meta.label_lower]
    except KeyError:
        raise ValueError(f"{target._meta.label_lower} is not registered as signable") from None


def user_in_group(user: Any, group: str) -> bool:
    return Group.objects.filter(name=group, user=user).exists()


def signable_content(target: models.Model) -> dict[str, Any]:
    """The content of `target` that a sign-off attests, as JSON values
    (`opsportal.core.hashing.json_values`)."""
    content: dict[str, Any] = json_values(_adapter(target).content(target))
    return content


def signable_sha256(target: models.Model) -> str:
    """SHA-256 (hex) of the canonical JSON of `signable_content(target)`."""
    return sha256_hex(signable_content(target))


def signoffs_for(target: models.Model, *, include_void: bool = False) -> models.QuerySet[Signoff]:
    """`target`'s sign-offs, oldest first: those not voided (or all, `include_void`).
    Whether one still holds is `valid_signoffs`' question, not this one's."""
    qs = Signoff.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).select_related("signer")
    return qs if include_void else qs.filter(voided_at__isnull=True)


def valid_signoffs(target: models.Model, *, content_sha256: str | None = None) -> list[Signoff]:
    """The sign-offs of `target` that hold: not voided and made on the content it has
    now (their `content_sha256` equals `signable_sha256(target)`, or the given
    `content_sha256` when the caller has just computed it). DESIGN "Sign-off": editing
    signed content voids its sign-offs; here that follows from the hashes, so no write
    path has to remember it."""
    current = content_sha256 or signable_sha256(target)
    return [s for s in signoffs_for(target) if s.content_sha256 == current]


def required_roles_for(target: models.Model) -> list[str]:
    return list(_adapter(target).required_roles(target))


@dataclass(frozen=True)
class SignoffOptions:
    """What `user` may sign on a target now.

    roles: the required roles still open that `user` may sign, in the order the
    target requires them (offer only these); why_none: when `roles` is empty, one
    sentence saying why (for the page, instead of an empty form)."""

    roles: list[str]
    why_none: str = ""


def signoff_options_for(target: models.Model, user: Any) -> SignoffOptions:
    """The roles `user` may still sign on `target`, by the same rules `signoff_sign`
    applies (the target is signable now, the role is open, the user has not signed
    yet, the adapter's `check_role` accepts the user), so a page never offers a
    sign-off the service would refuse. No writes."""
    adapter = _adapter(target)
    try:
        adapter.check_can_sign(target)
    except DomainError as exc:
        return SignoffOptions([], exc.message)
    live = valid_signoffs(target)
    signed = {s.role: s for s in live}
    open_roles = [r for r in adapter.required_roles(target) if r not in signed]
    if not open_roles:
        return SignoffOptions([], "Every required sign-off has been given.")
    mine = next((s for s in live if s.signer_id == user.pk), None)
    if mine is not None:
        return SignoffOptions(
            [],
            f"You have signed as {ROLE_LABELS.get(mine.role, mine.role)}; the remaining "
            f"sign-off ({_labels(open_roles)}) needs a different person.",
        )
    allowed: list[str] = []
    refusals: list[str] = []
    for role in open_roles:
        try:
            adapter.check_role(target, user, role)
        except NotPermitted as exc:
            refusals.append(exc.message)
        else:
            allowed.append(role)
    if allowed:
        return SignoffOptions(allowed)
    return SignoffOptions(
        [], f"Still needed: {_labels(open_roles)}. " + " ".join(dict.fromkeys(refusals))
    )


def _labels(roles: list[str]) -> str:
    return ", ".join(ROLE_LABELS.get(r, r) for r in roles)


@service_entry_point
def signoff_sign(
    *,
    target: models.Model,
    actor: Any,
    role: str,
    password: str,
    content_sha256: str,
    comment: str = "",
) -> Signoff:
    """Sign `target` in `role` as `actor`.

    Args:
        target: a registered signable instance (its row is locked while signing).
        role: one of the target's required roles.
        password: the actor's password again (step-up).
        content_sha256: the hash of the content the signer was shown; must equal
            the target's current `signable_sha256`.

    Owns its transaction. Raises (each refusal is audited as one "signoff.refused"
    event, written after the refused transaction has rolled back):
        NotPermitted: wrong password, or the actor may not sign in that role.
        ValidationFailed: the role is not one the target requires.
        Conflict: the target is not signable now, the content changed since it was
            shown, the role is already signed, or the actor already signed another
            role on this target (one user never fills two required sign-offs).
    """
    try:
        with transaction.atomic(durable=True):
            return _sign(target, actor, role, password, content_sha256, comment)
    except DomainError as exc:
        # The entry point writes it once the refused transaction has rolled back.
        refusal_attach(
            exc,
            actor=actor,
            event_type="signoff.refused",
            obj=target,
            metadata={"role": role, "code": exc.code, "message": exc.message},
        )
        logger.info("signoff.refused", extra={"role": role, "code": exc.code})
        raise


def _sign(
    target: models.Model,
    actor: Any,
    role: str,
    password: str,
    content_sha256: str,
    comment: str,
) -> Signoff:
    adapter = _adapter(target)
    text_within(comment, limit=COMMENT_MAX, field="comment", label="The comment")
    # Lock the target: concurrent signers (and edits that void) serialise on it.
    target = type(target)._default_manager.select_for_update().get(pk=target.pk)
    step_up_check(
        actor=actor,
        password=password,
        purpose="signoff",
        wrong_password_message="Password incorrect.",
    )
    required = adapter.required_roles(target)
    if role not in required:
        raise ValidationFailed(
            f"'{role}' is not a sign-off this record needs ({', '.join(required)}).",
            code="role_not_required",
            field="role",
        )
    adapter.check_can_sign(target)
    current = signable_sha256(target)
    if content_sha256 != current:
        raise Conflict(
            "The record changed since you opened it. Review the current content and sign again.",
            code="stale_content",
            field="content_sha256",
        )
    adapter.check_role(target, actor, role)
    live = list(signoffs_for(target).select_for_update())
    # Sign-offs made on earlier content no longer hold; void them (kept, with the
    # reason) so the one-live-per-role constraints admit the new signature.
    _void(
        target,
        [s for s in live if s.content_sha256 != current],
        "The signed content changed after signing.",
        actor=None,
    )
    live = [s for s in live if s.content_sha256 == current]
    if any(s.role == role for s in live):
        raise Conflict(f"The {role} sign-off is already given.", code="role_already_signed")
    if any(s.signer_id == actor.pk for s in live):
        raise Conflict(
            "You have already signed this record; a second sign-off needs a different person.",
            code="same_signer",
        )
    try:
        with transaction.atomic():
            signoff = Signoff.objects.create(
                target_type=ContentType.objects.get_for_model(target),
                target_id=str(target.pk),
                role=role,
                signer=actor,
                signed_at=timezone.now(),
                comment=comment.strip(),
                content_sha256=current,
            )
    except IntegrityError as exc:  # the constraints back up the checks above
        raise Conflict("This sign-off was given concurrently.", code="role_already_signed") from exc
    audit_record(
        actor=actor,
        event_type="signoff.signed",
        obj=target,
        after={"role": role, "content_sha256": current, "signoff": signoff.pk},
    )
    signed_roles = {s.role for s in live} | {role}
    if set(required) <= signed_roles:
        adapter.on_complete(target, actor)
    return signoff


def _void(target: models.Model, signoffs: list[Signoff], reason: str, *, actor: Any) -> None:
    """Mark `signoffs` (of `target`, locked by the caller) void with `reason`; each is
    audited as "signoff.voided". Runs in the caller's transaction."""
    now = timezone.now()
    for signoff in signoffs:
        signoff.voided_at = now
        signoff.void_reason = reason[:300]
        signoff.save(update_fields=["voided_at", "void_reason"])
        audit_record(
            actor=actor,
            event_type="signoff.voided",
            obj=target,
            after={"role": signoff.role, "signer": signoff.signer.get_username()},
            metadata={"reason": reason, "signoff": signoff.pk},
        )
