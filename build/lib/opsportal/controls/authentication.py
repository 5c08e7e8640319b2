"""Token authentication for the DRF API (after SessionAuthentication).

`Authorization: Bearer <token>`, two kinds told apart by their prefix:

- `opsg_…` gate tokens (engines) authenticate as a `GateTokenPrincipal` that holds no
  permission at all, so every people endpoint refuses them (403), while the gate
  endpoint (`controls.api.gate`, a plain Django view on the hot path) checks the token
  itself in its one query.
- `opsp_…` people-API tokens authenticate as their user, with exactly that user's
  permissions (no CSRF: the token is not sent by browsers on their own).

An unknown or revoked token, or one whose user is inactive, is refused.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from opsportal.controls.models import ApiToken, GateToken
from opsportal.controls.selectors import gate_token_lookup
from opsportal.controls.services import hash_token, token_touch

TOKEN_PREFIX = "opsg_"
PEOPLE_TOKEN_PREFIX = "opsp_"


def bearer_token(authorization: str, prefix: str = TOKEN_PREFIX) -> str | None:
    """The token of an `Authorization: Bearer <prefix>…` header, else None."""
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(prefix):
        return None
    return value


class GateTokenPrincipal:
    """Who a gate token is: a machine with no Django permissions."""

    is_authenticated = False
    is_anonymous = True
    is_active = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: GateToken):
        self.token = token

    def __str__(self) -> str:
        return f"gate token {self.token.prefix}…"

    def get_username(self) -> str:
        return ""

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False


class GateTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        person = bearer_token(header, PEOPLE_TOKEN_PREFIX)
        if person is not None:
            return self._person(person)
        raw = bearer_token(header)
        if raw is None:
            return None
        token = gate_token_lookup(hash_token(raw))
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        return GateTokenPrincipal(token), token

    def _person(self, raw: str) -> tuple[Any, ApiToken]:
        token = (
            ApiToken.objects.filter(token_sha256=hash_token(raw), revoked_at__isnull=True)
            .select_related("user")
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            token_touch(model=ApiToken, token_id=token.pk, at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="opsportal"'


class GateTokenScheme(OpenApiAuthenticationExtension):
    """Documents gate tokens in the OpenAPI schema."""

    target_class = "opsportal.controls.authentication.GateTokenAuthentication"
    name = "gateToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "People-API token (opsp_…, acts as its user) or engine gate "
            "token (opsg_…: reads GET /api/v1/environments/<slug>/gate and nothing else).",
        }
